/**
 * The last N upstream failures, every attempt, for the admin API and the dashboard: what failed, where
 * and why, findable by the request id a user quotes from an error page.
 */
import type { ErrorType, Failure, Phase, RootCause } from '../diagnose/index.js';
import type { Exchange, ExchangeObserver } from '../proxy/index.js';

export interface FailureRecord {
  /** When the failure was observed, ISO 8601. */
  time: string;
  request_id: string;
  /** The matched route's label, or null when none matched. */
  route: string | null;
  upstream: string;
  server: string;
  attempt: number;
  error_type: ErrorType;
  cause: RootCause;
  hint: string;
  phase: Phase;
  code: string;
  detail: string;
  /** Milliseconds, or null when not reached. */
  connect_ms: number | null;
  head_ms: number | null;
}

export interface RecentFailuresOptions {
  /** How many failures to keep (default 200). */
  capacity?: number;
  /** Time source in ms since the epoch (tests inject one). Default Date.now. */
  now?: () => number;
  /** Called with each new record (a worker process passes them on to its primary). */
  onRecord?: ((record: FailureRecord) => void) | undefined;
}

export class RecentFailures implements ExchangeObserver {
  readonly capacity: number;
  private readonly ring: Array<FailureRecord | undefined>;
  /** Where the next record goes. */
  private next = 0;
  private count = 0;
  private readonly now: () => number;
  private readonly onRecord: RecentFailuresOptions['onRecord'];

  constructor(options: RecentFailuresOptions = {}) {
    const capacity = options.capacity ?? 200;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.ring = new Array<FailureRecord | undefined>(capacity);
    this.now = options.now ?? Date.now;
    this.onRecord = options.onRecord;
  }

  /** Failures are rare next to requests: a record object per failure is affordable here. */
  upstreamFailed(ex: Exchange, failure: Failure): void {
    this.add({
      time: new Date(this.now()).toISOString(),
      request_id: ex.requestId,
      route: ex.route?.label ?? null,
      upstream: failure.upstream,
      server: failure.server,
      attempt: failure.attempt,
      error_type: failure.type,
      cause: failure.cause,
      hint: failure.hint,
      phase: failure.phase,
      code: failure.code,
      detail: failure.detail,
      connect_ms: failure.connectMs < 0 ? null : round(failure.connectMs),
      head_ms: failure.headMs < 0 ? null : round(failure.headMs),
    });
  }

  /** Keeps a record made elsewhere (by a worker process) or here. */
  add(record: FailureRecord): void {
    this.ring[this.next] = record;
    this.onRecord?.(record);
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  exchangeDone(_ex: Exchange): void {}

  /** Number of failures held. */
  get size(): number {
    return this.count;
  }

  /** Newest first, at most `limit` (default: all held). */
  list(limit: number = this.count): FailureRecord[] {
    const n = Math.max(0, Math.min(Math.floor(limit), this.count));
    const out: FailureRecord[] = [];
    for (let i = 1; i <= n; i++) out.push(this.ring[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }

  /**
   * The newest failure of one request (a retried request may have several; `all` gives every one,
   * newest first), or undefined when none is held.
   */
  get(requestId: string): FailureRecord | undefined {
    for (let i = 1; i <= this.count; i++) {
      const r = this.ring[(this.next - i + this.capacity) % this.capacity]!;
      if (r.request_id === requestId) return r;
    }
    return undefined;
  }

  /** Every held failure of one request, newest first. */
  all(requestId: string): FailureRecord[] {
    return this.list().filter((r) => r.request_id === requestId);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
