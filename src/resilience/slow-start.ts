/** Share of its weight a server gets the moment it becomes healthy. */
export const SLOW_START_INITIAL_FRACTION = 0.1;

/**
 * The weight a server should carry `now`, having been healthy since `healthySinceMs`: it ramps linearly
 * from 10 % of `baseWeight` to all of it over `slowStartMs`, like HAProxy's `slowstart` and nginx Plus's
 * `slow_start`, so that a server back from a restart (cold caches, JIT, pools) is not handed its full
 * share at once. Always an integer ≥ 1 (balancers take integer weights); `slowStartMs` ≤ 0 turns it off.
 */
export function effectiveWeight(baseWeight: number, healthySinceMs: number, now: number, slowStartMs: number): number {
  const full = Math.max(1, Math.round(baseWeight));
  if (slowStartMs <= 0) return full;
  const elapsedMs = now - healthySinceMs;
  if (elapsedMs >= slowStartMs) return full;
  const progress = elapsedMs > 0 ? elapsedMs / slowStartMs : 0;
  const fraction = SLOW_START_INITIAL_FRACTION + (1 - SLOW_START_INITIAL_FRACTION) * progress;
  // The epsilon keeps 100 × 0.55 = 55.00000000000001 from rounding up to 56.
  return Math.max(1, Math.min(full, Math.ceil(full * fraction - 1e-9)));
}
