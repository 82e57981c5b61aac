/**
 * The coarse time the request path reads. The gateway's shared clock (refreshed by one sweep) satisfies
 * it, and so does a plain `{ now: 0 }` object a test moves by hand: nothing here reads `Date.now()` or
 * starts a timer, so every transition is driven by the time the caller passes in.
 */
export interface TimeSource {
  /** Milliseconds. */
  readonly now: number;
}
