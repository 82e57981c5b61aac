/**
 * A fast 32-bit string hash for the hashing rings: FNV-1a over the UTF-16 code units (one step per unit, no
 * encoding, no allocation), finished with murmur3's fmix32. FNV-1a alone barely changes the high bits when
 * only the last character differs (10.0.0.1 vs 10.0.0.2, server#1 vs server#2), which would cluster a
 * server's ring points; the finaliser spreads every input bit over the whole word.
 */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return mix32(hash);
}

/** murmur3's fmix32 finaliser: a bijection on 32-bit words with full avalanche. */
export function mix32(value: number): number {
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  value ^= value >>> 16;
  return value >>> 0;
}
