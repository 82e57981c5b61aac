import type { BreakerReason, BreakerState, EventSink } from './events.js';
import { RollingCounter } from './window.js';

/** Circuit breaker settings of one server; durations in ms, ratio 0..1. */
export interface BreakerOptions {
  /** Open when failures / requests over `window` exceeds this, given at least `min_requests` requests. */
  readonly failure_ratio: number;
  readonly min_requests: number;
  readonly window: number;
  /** Open after this many failures in a row; 0 = only the ratio opens it. */
  readonly consecutive_failures: number;
  /** First open period; each re-open doubles it, up to max_open_for. */
  readonly open_for: number;
  readonly max_open_for: number;
  /** Probes let through at once when half open; this many successes close the breaker. */
  readonly half_open_requests: number;
}

const WINDOW_BUCKETS = 10;
const REQUESTS = 0;
const FAILURES = 1;

/**
 * A circuit breaker for one server (Envoy/Hystrix style):
 *
 *   closed ──(failure ratio over window, or failures in a row)──▶ open
 *   open ──(open period elapsed, noticed by tryAcquire)──▶ half_open
 *   half_open ──(half_open_requests probe successes)──▶ closed
 *   half_open ──(any probe failure)──▶ open, for twice as long (up to max_open_for)
 *
 * The open period starts over at open_for once the breaker has stayed closed for a whole window.
 * Outcomes reported while open (requests admitted before it opened) are ignored. The breaker cannot
 * tell such a late outcome from a probe's when it arrives half open; it counts it as one.
 */
export class CircuitBreaker {
  readonly upstream: string;
  readonly server: string;
  private readonly options: BreakerOptions;
  private readonly sink: EventSink;
  private readonly window: RollingCounter;
  private current: BreakerState = 'closed';
  private consecutive = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  /** Opens in a row (each doubling the open period); 0 after a quiet closed window. */
  private opens = 0;
  private closedSinceMs = Number.NEGATIVE_INFINITY;
  private untilMs = 0;

  constructor(upstream: string, server: string, options: BreakerOptions, sink: EventSink) {
    this.upstream = upstream;
    this.server = server;
    this.options = options;
    this.sink = sink;
    this.window = new RollingCounter(options.window, WINDOW_BUCKETS, 2);
  }

  /** The state as of the last call; an elapsed open period shows as half_open only after tryAcquire. */
  get state(): BreakerState {
    return this.current;
  }

  /** When an open breaker lets probes through; 0 unless open. */
  get openUntilMs(): number {
    return this.current === 'open' ? this.untilMs : 0;
  }

  /** Probes admitted in half_open and not yet recorded or released. */
  get inFlightProbes(): number {
    return this.probesInFlight;
  }

  /**
   * May a request go to this server now? Always when closed; never when open (until the open period
   * has elapsed, which moves it to half_open); when half open, only while fewer than half_open_requests
   * probes are in flight. A true from half_open must be followed by record() or release().
   */
  tryAcquire(now: number): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (now < this.untilMs) return false;
      this.probesInFlight = 0;
      this.probeSuccesses = 0;
      this.transition('half_open', 'open_elapsed', now);
    }
    if (this.probesInFlight >= Math.max(1, this.options.half_open_requests)) return false;
    this.probesInFlight++;
    return true;
  }

  /** The outcome of a request admitted by tryAcquire. */
  record(success: boolean, now: number): void {
    if (this.current === 'closed') {
      this.recordClosed(success, now);
    } else if (this.current === 'half_open') {
      if (this.probesInFlight > 0) this.probesInFlight--;
      if (!success) {
        this.open('probe_failed', now);
      } else if (++this.probeSuccesses >= Math.max(1, this.options.half_open_requests)) {
        this.consecutive = 0;
        this.window.clear();
        this.closedSinceMs = now;
        this.transition('closed', 'probes_succeeded', now);
      }
    }
  }

  /**
   * The server is a new process: its failure streak starts over, and an open breaker lets its trial
   * requests through at once (half_open on the next request) instead of waiting out the open period.
   */
  replaced(now: number): void {
    this.consecutive = 0;
    if (this.current === 'open') this.untilMs = Math.min(this.untilMs, now);
  }

  /** A probe admitted by tryAcquire that ended without an outcome (the client went away). */
  release(): void {
    if (this.current === 'half_open' && this.probesInFlight > 0) this.probesInFlight--;
  }

  private recordClosed(success: boolean, now: number): void {
    this.window.add(now, REQUESTS);
    if (success) {
      this.consecutive = 0;
      return;
    }
    this.window.add(now, FAILURES);
    this.consecutive++;
    const { consecutive_failures: inARow, failure_ratio: ratio, min_requests: minRequests } = this.options;
    if (inARow > 0 && this.consecutive >= inARow) {
      this.open('consecutive_failures', now);
      return;
    }
    const requests = this.window.total(now, REQUESTS);
    if (requests >= minRequests && this.window.total(now, FAILURES) > ratio * requests) {
      this.open('failure_ratio', now);
    }
  }

  private open(reason: BreakerReason, now: number): void {
    if (this.current === 'closed' && now - this.closedSinceMs >= this.options.window) this.opens = 0;
    const { open_for: openForMs, max_open_for: maxOpenForMs } = this.options;
    // 2^opens overflows to Infinity long before it matters; min() keeps the cap.
    const periodMs = Math.min(openForMs * 2 ** this.opens, Math.max(openForMs, maxOpenForMs));
    this.opens++;
    this.untilMs = now + periodMs;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    this.consecutive = 0;
    this.window.clear();
    this.transition('open', reason, now);
  }

  private transition(to: BreakerState, reason: BreakerReason, now: number): void {
    const from = this.current;
    this.current = to;
    this.sink({
      kind: 'breaker',
      upstream: this.upstream,
      server: this.server,
      atMs: now,
      from,
      to,
      reason,
      ...(to === 'open' ? { untilMs: this.untilMs } : {}),
    });
  }
}
