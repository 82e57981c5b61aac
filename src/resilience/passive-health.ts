import type { EventSink, RestoredEvent, ServerHealthState } from './events.js';
import type { TimeSource } from './time.js';
import { RollingCounter } from './window.js';

/** Passive health settings of one upstream; durations in ms, fractions 0..1. */
export interface PassiveHealthOptions {
  /** Consecutive failures, the first and the last within `window`, that eject a server. */
  readonly failures: number;
  readonly window: number;
  /** First ejection's length; the n-th ejection in a row lasts n × eject_for, at most max_eject_for. */
  readonly eject_for: number;
  readonly max_eject_for: number;
  /** Fraction of the upstream's servers that may be ejected at once (rounded down). */
  readonly max_ejected_percent: number;
  /** Eject a server whose p99 latency over `window` is above `p99_above`, once it has `min_requests` samples. */
  readonly latency?: {
    readonly p99_above: number;
    readonly min_requests: number;
    readonly window: number;
  };
}

const HEALTHY = 0;
const EJECTED = 1;
const PROBATION = 2;
const STATE_NAMES: readonly ServerHealthState[] = ['healthy', 'ejected', 'probation'];

const LATENCY_BUCKETS = 10;
const SAMPLES = 0;
const SLOW = 1;

/**
 * Outlier detection on real traffic, per upstream, servers by index (Envoy's outlier detection, nginx's
 * max_fails/fail_timeout):
 *
 *   healthy ──(failures in a row within window, or p99 too high)──▶ ejected
 *   ejected ──(ejection expired: tick or isEjected)──────────────▶ probation   event 'restored'
 *   probation ──(success)──▶ healthy (event 'recovered');  probation ──(failure)──▶ ejected again
 *
 * A server on probation gets one chance, as nginx gives a server back after fail_timeout: its first
 * failure ejects it again, for longer. Ejections in a row grow as eject_for × n up to max_eject_for; the
 * count starts over once a server has gone max_eject_for since its last ejection ended. No more than
 * max_ejected_percent of the servers are ever ejected at once: the ejection that would pass that bound
 * is dropped, reported as an 'ejection_skipped' event, and the server's failure streak starts over (so
 * an outage reports it once per `failures` failures, not once per request).
 *
 * All per-server state lives in typed arrays sized at construction: recording an outcome allocates nothing.
 */
export class OutlierDetector {
  readonly upstream: string;
  readonly servers: readonly string[];
  /** The most servers that may be ejected at once. */
  readonly ejectionLimit: number;
  private readonly options: PassiveHealthOptions;
  private readonly time: TimeSource;
  private readonly sink: EventSink;
  private readonly states: Uint8Array;
  /** Times of the last `failures` failures of each server: ring at [i * failures, (i + 1) * failures). */
  private readonly failureTimes: Float64Array;
  private readonly streaks: Int32Array;
  private readonly untilMs: Float64Array;
  private readonly ejections: Int32Array;
  private readonly lastEjectionEndMs: Float64Array;
  private readonly latency: readonly RollingCounter[];
  private ejectedNow = 0;

  constructor(
    upstream: string,
    servers: readonly string[],
    options: PassiveHealthOptions,
    time: TimeSource,
    sink: EventSink,
  ) {
    const count = servers.length;
    this.upstream = upstream;
    this.servers = servers;
    this.options = options;
    this.time = time;
    this.sink = sink;
    // A small epsilon so that 0.3 × 10 is 3, not 2.9999999999999996 rounded down to 2.
    this.ejectionLimit = Math.floor(options.max_ejected_percent * count + 1e-9);
    this.states = new Uint8Array(count);
    this.failureTimes = new Float64Array(count * Math.max(1, options.failures));
    this.streaks = new Int32Array(count);
    this.untilMs = new Float64Array(count);
    this.ejections = new Int32Array(count);
    this.lastEjectionEndMs = new Float64Array(count).fill(Number.NEGATIVE_INFINITY);
    const latency = options.latency;
    this.latency =
      latency === undefined ? [] : servers.map(() => new RollingCounter(latency.window, LATENCY_BUCKETS, 2));
  }

  /** A response the gateway counts as good, and how long it took (ms). */
  recordSuccess(index: number, latencyMs: number): void {
    const now = this.time.now;
    if (this.isEjected(index, now)) return;
    this.streaks[index] = 0;
    if (this.states[index] === PROBATION) {
      this.states[index] = HEALTHY;
      this.sink({
        kind: 'recovered',
        upstream: this.upstream,
        server: this.servers[index]!,
        atMs: now,
        from: 'probation',
        to: 'healthy',
        reason: 'success',
      });
    }
    const rule = this.options.latency;
    if (rule === undefined) return;
    const samples = this.latency[index]!;
    samples.add(now, SAMPLES);
    if (latencyMs > rule.p99_above) samples.add(now, SLOW);
    const total = samples.total(now, SAMPLES);
    if (total >= rule.min_requests && p99Above(total, samples.total(now, SLOW))) {
      this.eject(index, now, 'latency_p99');
    }
  }

  /** A gateway failure (connect, timeout, reset, bad response) or a status configured as a failure. */
  recordFailure(index: number): void {
    const now = this.time.now;
    if (this.isEjected(index, now)) return;
    if (this.states[index] === PROBATION) {
      this.eject(index, now, 'consecutive_failures');
      return;
    }
    const needed = Math.max(1, this.options.failures);
    const streak = this.streaks[index]!;
    const base = index * needed;
    // The ring slot written now is the one holding the oldest of the last `needed` failures.
    const slot = base + (streak % needed);
    this.failureTimes[slot] = now;
    this.streaks[index] = streak + 1;
    if (streak + 1 < needed) return;
    const oldest = this.failureTimes[base + ((streak + 1) % needed)]!;
    if (now - oldest <= this.options.window) this.eject(index, now, 'consecutive_failures');
  }

  /** True while the server is ejected; an ejection that has run out ends here, emitting 'restored'. */
  isEjected(index: number, now: number = this.time.now): boolean {
    if (this.states[index] !== EJECTED) return false;
    if (now < this.untilMs[index]!) return true;
    this.restore(index, now);
    return false;
  }

  /** Ends every ejection that has run out (called from the gateway's periodic sweep). */
  tick(now: number = this.time.now): void {
    if (this.ejectedNow === 0) return;
    for (let index = 0; index < this.states.length; index++) {
      if (this.states[index] === EJECTED && now >= this.untilMs[index]!) this.restore(index, now);
    }
  }

  state(index: number): ServerHealthState {
    return STATE_NAMES[this.states[index]!]!;
  }

  /** When the server's current ejection ends, or 0 when it is not ejected. */
  ejectedUntilMs(index: number): number {
    return this.states[index] === EJECTED ? this.untilMs[index]! : 0;
  }

  /** Servers ejected as of the last transition (tick first for an exact count at a later time). */
  get ejectedCount(): number {
    return this.ejectedNow;
  }

  private eject(index: number, now: number, reason: 'consecutive_failures' | 'latency_p99'): void {
    this.streaks[index] = 0;
    this.latency[index]?.clear();
    this.tick(now);
    const server = this.servers[index]!;
    if (this.ejectedNow + 1 > this.ejectionLimit) {
      this.sink({
        kind: 'ejection_skipped',
        upstream: this.upstream,
        server,
        atMs: now,
        reason: 'max_ejected_percent',
        ejected: this.ejectedNow,
        limit: this.ejectionLimit,
      });
      return;
    }
    const { eject_for: ejectForMs, max_eject_for: maxEjectForMs } = this.options;
    const capMs = Math.max(ejectForMs, maxEjectForMs);
    if (now - this.lastEjectionEndMs[index]! >= capMs) this.ejections[index] = 0;
    const ejections = this.ejections[index]! + 1;
    this.ejections[index] = ejections;
    const untilMs = now + Math.min(ejectForMs * ejections, capMs);
    const from = this.states[index] === PROBATION ? 'probation' : 'healthy';
    this.states[index] = EJECTED;
    this.untilMs[index] = untilMs;
    this.ejectedNow++;
    this.sink({
      kind: 'ejected',
      upstream: this.upstream,
      server,
      atMs: now,
      from,
      to: 'ejected',
      reason,
      untilMs,
      ejections,
    });
  }

  /**
   * The server behind `index` is a new process (a managed server restarted): failures of the old one
   * say nothing of it, so an ejection ends now and the server is on probation.
   */
  replaced(index: number, now: number = this.time.now): void {
    this.streaks[index] = 0;
    if (this.states[index] === EJECTED) this.restore(index, now, 'process_restarted');
  }

  private restore(index: number, now: number, reason: RestoredEvent['reason'] = 'ejection_expired'): void {
    this.states[index] = PROBATION;
    this.lastEjectionEndMs[index] = Math.min(now, this.untilMs[index]!);
    this.ejectedNow--;
    this.sink({
      kind: 'restored',
      upstream: this.upstream,
      server: this.servers[index]!,
      atMs: now,
      from: 'ejected',
      to: 'probation',
      reason,
    });
  }
}

/**
 * Whether the p99 (nearest rank: the ⌈0.99·n⌉-th smallest of n samples) is above the threshold, knowing
 * only how many samples there are and how many of them are above it: it is exactly when fewer than
 * ⌈0.99·n⌉ samples are at or below the threshold. Counting replaces a histogram and never allocates.
 */
export function p99Above(samples: number, slowSamples: number): boolean {
  const rank = Math.floor((99 * samples + 99) / 100);
  return samples - slowSamples < rank;
}
