/** Jitter is a fraction of the interval, at most half of it: a wait never shrinks to nothing. */
export const MAX_JITTER = 0.5;

function clampJitter(jitter: number): number {
  return Math.min(MAX_JITTER, Math.max(0, jitter));
}

/**
 * The first probe comes within interval × jitter of start: soon, yet servers and gateways started
 * together are not all probed in the same instant. `random` is uniform in [0, 1).
 */
export function firstProbeDelayMs(intervalMs: number, jitter: number, random: number): number {
  return Math.round(intervalMs * clampJitter(jitter) * random);
}

/** Each later wait is interval × (1 ± jitter·random), so probes of many gateways drift apart. */
export function nextProbeDelayMs(intervalMs: number, jitter: number, random: number): number {
  return Math.max(0, Math.round(intervalMs * (1 + clampJitter(jitter) * (2 * random - 1))));
}
