/**
 * Counts over a rolling time window, kept in a fixed ring of buckets: adding is O(1) and allocates
 * nothing, and reading a total is O(1) (running totals are kept as buckets age out). The window is as
 * fine as one bucket: a total covers the current, partial bucket plus the `buckets - 1` before it.
 *
 * Several channels share one ring (requests and retries, successes and failures), so that they always
 * age out together.
 */
export class RollingCounter {
  readonly bucketMs: number;
  private readonly buckets: number;
  private readonly channels: number;
  /** counts[bucket * channels + channel] */
  private readonly counts: Float64Array;
  private readonly totals: Float64Array;
  /** Number (floor(time / bucketMs)) of the newest bucket; older buckets are the ones before it in the ring. */
  private newest = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number, buckets: number, channels: number) {
    this.buckets = Math.max(1, Math.floor(buckets));
    this.channels = Math.max(1, Math.floor(channels));
    this.bucketMs = Math.max(1, windowMs / this.buckets);
    this.counts = new Float64Array(this.buckets * this.channels);
    this.totals = new Float64Array(this.channels);
  }

  add(nowMs: number, channel: number, amount = 1): void {
    this.advance(nowMs);
    const slot = this.slotOf(this.newest) * this.channels + channel;
    this.counts[slot] = this.counts[slot]! + amount;
    this.totals[channel] = this.totals[channel]! + amount;
  }

  /** The channel's count over the window ending at `nowMs`. */
  total(nowMs: number, channel: number): number {
    this.advance(nowMs);
    return this.totals[channel]!;
  }

  /** Forget everything (a breaker that closes starts from a clean window). */
  clear(): void {
    this.counts.fill(0);
    this.totals.fill(0);
  }

  /**
   * Move the newest bucket up to `nowMs`, emptying the buckets that fall out of the window. Time that goes
   * backwards (a clock step) is counted in the newest bucket rather than rewriting the past.
   */
  private advance(nowMs: number): void {
    const current = Math.floor(nowMs / this.bucketMs);
    if (current <= this.newest) return;
    if (current - this.newest >= this.buckets) {
      this.clear();
    } else {
      for (let bucket = this.newest + 1; bucket <= current; bucket++) {
        const base = this.slotOf(bucket) * this.channels;
        for (let channel = 0; channel < this.channels; channel++) {
          this.totals[channel] = this.totals[channel]! - this.counts[base + channel]!;
          this.counts[base + channel] = 0;
        }
      }
    }
    this.newest = current;
  }

  private slotOf(bucket: number): number {
    const slot = bucket % this.buckets;
    return slot < 0 ? slot + this.buckets : slot;
  }
}
