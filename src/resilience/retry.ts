import { ERROR_TYPES, PHASES, type Phase } from '../diagnose/index.js';
import { ResilienceConfigError } from './errors.js';
import { RollingCounter } from './window.js';

/** Retry settings of one upstream; durations in ms, sizes in bytes, fractions 0..1. */
export interface RetryPolicyOptions {
  /** Tries per request, the first included (1 = never retry). */
  readonly attempts: number;
  /** Failure tokens (RETRY_ON_FAILURES keys) and response statuses ('502', '503') that are retried. */
  readonly on: readonly string[];
  /** Limit of one try; 0 = only the upstream's timeouts. */
  readonly per_try_timeout: number;
  /** Limit of all tries of one request together; 0 = none. */
  readonly deadline: number;
  readonly backoff: { readonly base: number; readonly max: number };
  /** Largest request body kept to be sent again. */
  readonly body_limit: number;
  /** Absent = retries limited only by attempts. */
  readonly budget?: RetryBudgetOptions;
}

export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of requests over the window (0.2 = one retry per five requests). */
  readonly percent: number;
  /** Retries allowed per second whatever the traffic, so that a quiet upstream can still retry. */
  readonly min_per_second: number;
}

interface FailureMatch {
  /** RFC 9209 error types; a trailing '*' matches every type with that prefix. */
  readonly types: readonly string[];
  /** Only failures in these phases; absent = any phase. */
  readonly phases?: readonly Phase[];
}

/**
 * The failure tokens of `retries.on` and the failures each one retries, by RFC 9209 type (the
 * classifier's one vocabulary). Whether a retry is also *safe* (idempotent method, replayable body,
 * nothing sent yet) is the proxy's decision; this table only says which failures are worth one.
 */
export const RETRY_ON_FAILURES = {
  // Nothing of the request reached a server: lookup, connect or TLS handshake failed. Not
  // destination_unavailable: that is the gateway finding no server at all, which a retry cannot change.
  connect_failure: {
    types: [
      'connection_refused',
      'connection_timeout',
      'dns_*',
      'destination_not_found',
      'destination_ip_unroutable',
      'tls_*',
    ],
    phases: ['dns', 'connect', 'tls'],
  },
  refused: { types: ['connection_refused'] },
  reset: { types: ['connection_terminated'] },
  timeout: { types: ['connection_timeout', 'connection_read_timeout', 'connection_write_timeout'] },
  tls: { types: ['tls_*'] },
  protocol: { types: ['http_protocol_error', 'http_response_header_section_size'] },
} as const satisfies Record<string, FailureMatch>;

export type RetryOnToken = keyof typeof RETRY_ON_FAILURES;

const PHASE_NAMES = Object.keys(PHASES) as Phase[];
const ALL_PHASES = (1 << PHASE_NAMES.length) - 1;
const ERROR_TYPE_NAMES = Object.keys(ERROR_TYPES);

function phaseBit(phase: string): number {
  const index = PHASE_NAMES.indexOf(phase as Phase);
  return index < 0 ? 0 : 1 << index;
}

/**
 * Which failures and statuses one upstream retries, how long to wait between tries, and how long tries
 * may take. Built once at config load; its questions are answered from tables without allocating.
 */
export class RetryPolicy {
  readonly attempts: number;
  readonly perTryTimeoutMs: number;
  readonly deadlineMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly bodyLimitBytes: number;
  /** Shared by every request to the upstream; undefined when no budget is configured. */
  readonly budget: RetryBudget | undefined;
  /** Error type → bit mask of the phases (PHASES order) in which it is retried. */
  private readonly failurePhases = new Map<string, number>();
  /** Indexed by status; 1 = retried. */
  private readonly statuses = new Uint8Array(600);

  constructor(options: RetryPolicyOptions) {
    this.attempts = Math.max(1, Math.floor(options.attempts));
    this.perTryTimeoutMs = options.per_try_timeout;
    this.deadlineMs = options.deadline;
    this.backoffBaseMs = options.backoff.base;
    this.backoffMaxMs = options.backoff.max;
    this.bodyLimitBytes = options.body_limit;
    this.budget = options.budget === undefined ? undefined : new RetryBudget(options.budget);
    for (const token of options.on) this.enable(token);
  }

  /**
   * Does the configuration retry this failure? `type` and `phase` are a Failure's (RFC 9209 type, phase
   * name). The code (errno or GW_ code) is taken so that a caller passes a Failure's fields unchanged;
   * no token distinguishes by code, because the classifier has already folded codes into types.
   */
  retriableFailure(type: string, _code: string, phase: string): boolean {
    const phases = this.failurePhases.get(type);
    return phases !== undefined && (phases & phaseBit(phase)) !== 0;
  }

  /** Does the configuration retry a response with this status (before any byte of it reached the client)? */
  retriableStatus(status: number): boolean {
    return status >= 0 && status < this.statuses.length && this.statuses[status] === 1;
  }

  /**
   * Wait before retry number `attempt` (1 = the first retry): "full jitter", a uniform draw in
   * [0, min(max, base × 2^(attempt−1))] in whole ms, so that clients retrying together spread out.
   */
  backoffMs(attempt: number, random: () => number = Math.random): number {
    if (attempt < 1 || this.backoffMaxMs <= 0 || this.backoffBaseMs <= 0) return 0;
    const ceilingMs = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.min(ceilingMs, Math.floor(random() * (ceilingMs + 1)));
  }

  /** Time left of the request's deadline (Infinity without one; ≤ 0 once it has passed). */
  remainingMs(startedMs: number, now: number): number {
    return this.deadlineMs > 0 ? startedMs + this.deadlineMs - now : Number.POSITIVE_INFINITY;
  }

  /**
   * May another try start, after `triesMade` tries of a request that started at `startedMs`, waiting
   * `delayMs` first? Counts attempts and the deadline; the budget is asked separately (tryRetry spends it).
   */
  mayRetry(triesMade: number, startedMs: number, now: number, delayMs = 0): boolean {
    return triesMade < this.attempts && this.remainingMs(startedMs, now) > delayMs;
  }

  /** The time limit of the next try: per_try_timeout, cut to what remains of the deadline (0 = none). */
  tryTimeoutMs(startedMs: number, now: number): number {
    const remaining = this.remainingMs(startedMs, now);
    const perTry = this.perTryTimeoutMs > 0 ? this.perTryTimeoutMs : Number.POSITIVE_INFINITY;
    const limit = Math.min(perTry, Math.max(0, remaining));
    return limit === Number.POSITIVE_INFINITY ? 0 : limit;
  }

  private enable(token: string): void {
    if (/^[1-5][0-9][0-9]$/.test(token)) {
      this.statuses[Number(token)] = 1;
      return;
    }
    if (!Object.hasOwn(RETRY_ON_FAILURES, token)) {
      const known = [...Object.keys(RETRY_ON_FAILURES), 'a status such as 503'].join(', ');
      throw new ResilienceConfigError('GW_RETRY_ON_UNKNOWN', `unknown retry condition "${token}" (known: ${known})`);
    }
    const match: FailureMatch = RETRY_ON_FAILURES[token as RetryOnToken];
    let phases = ALL_PHASES;
    if (match.phases !== undefined) phases = match.phases.reduce((bits, phase) => bits | phaseBit(phase), 0);
    for (const pattern of match.types) {
      const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
      for (const type of ERROR_TYPE_NAMES) {
        if (prefix === undefined ? type !== pattern : !type.startsWith(prefix)) continue;
        this.failurePhases.set(type, (this.failurePhases.get(type) ?? 0) | phases);
      }
    }
  }
}

const BUDGET_BUCKETS = 10;
const REQUESTS = 0;
const RETRIES = 1;

/**
 * A retry budget per upstream (Envoy's retry_budget, Finagle's RetryBudget): over the last 10 s,
 * retries may number at most percent × requests + min_per_second × 10. During an outage every request
 * fails, and without a budget each would be tried `attempts` times, multiplying the load on a backend
 * that is already failing; the budget holds the extra load to that fraction. Counts live in a fixed
 * ring of one-second buckets.
 */
export class RetryBudget {
  readonly percent: number;
  readonly minPerSecond: number;
  readonly windowMs: number;
  private readonly counts: RollingCounter;

  constructor(options: RetryBudgetOptions, windowMs = 10_000) {
    this.percent = options.percent;
    this.minPerSecond = options.min_per_second;
    this.windowMs = windowMs;
    this.counts = new RollingCounter(windowMs, BUDGET_BUCKETS, 2);
  }

  /** One client request to the upstream (its first try; retries are not requests). */
  recordRequest(now: number): void {
    this.counts.add(now, REQUESTS);
  }

  /** Spend one retry if the budget has one left; false means answer with the failure instead. */
  tryRetry(now: number): boolean {
    // The epsilon keeps 0.29 × 100 = 28.999999999999996 from costing a retry.
    if (this.counts.total(now, RETRIES) + 1 > this.allowance(now) + 1e-9) return false;
    this.counts.add(now, RETRIES);
    return true;
  }

  /** Retries the window allows at `now`. */
  allowance(now: number): number {
    return this.percent * this.counts.total(now, REQUESTS) + (this.minPerSecond * this.windowMs) / 1000;
  }

  /** Retries spent within the window. */
  spent(now: number): number {
    return this.counts.total(now, RETRIES);
  }
}
