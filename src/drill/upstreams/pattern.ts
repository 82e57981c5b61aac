/**
 * Bodies the test upstreams send are a fixed pattern: byte i is PATTERN_ALPHABET[i % 64]. A receiver
 * can then check not only the length but that every byte arrived in its place.
 */
export const PATTERN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const PERIOD = PATTERN_ALPHABET.length;
/** A whole number of periods, so any slice of it starting at offset % PERIOD continues the pattern. */
const BLOCK = Buffer.from(PATTERN_ALPHABET.repeat(1024 + 1), 'latin1');
export const MAX_PATTERN_PIECE = BLOCK.length - PERIOD;

/** `length` pattern bytes starting at body offset `offset` (length <= MAX_PATTERN_PIECE, shared memory). */
export function patternPiece(offset: number, length: number): Buffer {
  const start = offset % PERIOD;
  return BLOCK.subarray(start, start + length);
}

/** The first `length` bytes of any pattern body, freshly allocated: what a test compares against. */
export function patternBody(length: number): Buffer {
  const body = Buffer.allocUnsafe(length);
  for (let offset = 0; offset < length; offset += MAX_PATTERN_PIECE) {
    patternPiece(offset, Math.min(MAX_PATTERN_PIECE, length - offset)).copy(body, offset);
  }
  return body;
}
