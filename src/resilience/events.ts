/**
 * Every transition of a resilience state machine is one typed event. Metrics, logs, alerts and the
 * dashboard subscribe through an EventSink; none of them reaches into the machines.
 */

/** Passive health of one server (see OutlierDetector). */
export type ServerHealthState = 'healthy' | 'ejected' | 'probation';

/** A circuit breaker of one server (see CircuitBreaker). */
export type BreakerState = 'closed' | 'open' | 'half_open';

interface ServerEventBase {
  /** Upstream group name. */
  readonly upstream: string;
  /** Server name as the upstream knows it (its URL). */
  readonly server: string;
  /** Time of the transition, ms on the caller's clock. */
  readonly atMs: number;
}

/** A server was taken out of rotation by passive health. */
export interface EjectedEvent extends ServerEventBase {
  readonly kind: 'ejected';
  readonly from: 'healthy' | 'probation';
  readonly to: 'ejected';
  readonly reason: 'consecutive_failures' | 'latency_p99';
  /** When the server comes back on probation. */
  readonly untilMs: number;
  /** Ejections in a row that set this ejection's length (1 for the first). */
  readonly ejections: number;
}

/** An ejection was due but would have put more servers out than max_ejected_percent allows. */
export interface EjectionSkippedEvent extends ServerEventBase {
  readonly kind: 'ejection_skipped';
  readonly reason: 'max_ejected_percent';
  /** Servers ejected at that moment, and the most that may be. */
  readonly ejected: number;
  readonly limit: number;
}

/** An ejection ran out: the server receives traffic again, on probation until its next outcome. */
export interface RestoredEvent extends ServerEventBase {
  readonly kind: 'restored';
  readonly from: 'ejected';
  readonly to: 'probation';
  /** The ejection ran out, or the server is a new process (a managed server restarted). */
  readonly reason: 'ejection_expired' | 'process_restarted';
}

/** A server on probation answered successfully and counts as healthy again. */
export interface RecoveredEvent extends ServerEventBase {
  readonly kind: 'recovered';
  readonly from: 'probation';
  readonly to: 'healthy';
  readonly reason: 'success';
}

export type BreakerReason =
  /** closed → open */
  | 'failure_ratio'
  | 'consecutive_failures'
  /** open → half_open */
  | 'open_elapsed'
  /** half_open → open */
  | 'probe_failed'
  /** half_open → closed */
  | 'probes_succeeded';

/** A circuit breaker changed state. */
export interface BreakerEvent extends ServerEventBase {
  readonly kind: 'breaker';
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly reason: BreakerReason;
  /** For transitions to open: when the breaker lets probes through. */
  readonly untilMs?: number;
}

export type ResilienceEvent = EjectedEvent | EjectionSkippedEvent | RestoredEvent | RecoveredEvent | BreakerEvent;

export type EventSink = (event: ResilienceEvent) => void;

/** A sink that drops everything, for machines nobody observes. */
export const IGNORE_EVENTS: EventSink = () => {};
