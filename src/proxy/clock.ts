/**
 * Coarse time for the request path. Timeouts are deadlines stored as numbers on the objects that own
 * them and checked by one shared sweep, instead of a timer per socket per request: `socket.setTimeout`
 * costs 0.6–0.8 µs per request on this path (PERF-NOTES rule 8).
 */
export interface Sweepable {
  /** Called on every tick with the current coarse time; the object checks its own deadlines. */
  sweep(nowMs: number): void;
}

export const TICK_MS = 100;

export class Clock {
  /** Milliseconds, refreshed on every tick and whenever `refresh()` is called. */
  now = Date.now();
  private readonly members = new Set<Sweepable>();
  private timer: NodeJS.Timeout | undefined;

  add(member: Sweepable): void {
    this.members.add(member);
    if (this.timer === undefined) {
      this.timer = setInterval(this.tick, TICK_MS);
      this.timer.unref();
    }
  }

  delete(member: Sweepable): void {
    this.members.delete(member);
  }

  refresh(): number {
    this.now = Date.now();
    return this.now;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.members.clear();
  }

  private readonly tick = (): void => {
    const now = this.refresh();
    for (const member of this.members) member.sweep(now);
  };
}

/** High-resolution milliseconds for timings reported in logs (connect, head, total). */
export function preciseMs(): number {
  return performance.now();
}
