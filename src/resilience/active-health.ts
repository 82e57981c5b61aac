import { setMaxListeners } from 'node:events';
import { GatewayError } from '../errors.js';
import { compileExpectations } from './active-health/expect.js';
import { HttpProber } from './active-health/http-probe.js';
import { firstProbeDelayMs, nextProbeDelayMs } from './active-health/schedule.js';
import { HealthCounter } from './active-health/state.js';
import { TcpProber } from './active-health/tcp-probe.js';
import type { ActiveHealthConfig, HealthState, ProbeResult, Prober, ProbeTarget } from './active-health/types.js';

export { firstProbeDelayMs, MAX_JITTER, nextProbeDelayMs } from './active-health/schedule.js';
export { type HealthChange, HealthCounter } from './active-health/state.js';
export {
  type ActiveHealthConfig,
  type HealthState,
  MAX_PROBE_BODY_BYTES,
  type ProbeResult,
  type ProbeTarget,
  type StatusRange,
} from './active-health/types.js';

/** The event emitted whenever active checks move a server between healthy and unhealthy. */
export interface HealthTransition {
  upstream: string;
  server: string;
  index: number;
  from: HealthState;
  to: HealthState;
  /** The deciding probe's result and the streak that crossed the threshold, in an operator's words. */
  reason: string;
  /** Clock time of the deciding probe's result (ms). */
  at: number;
}

/** What the admin API and the dashboard show for one server. */
export interface HealthSnapshot {
  server: string;
  state: HealthState;
  consecutiveOk: number;
  consecutiveFail: number;
  /** Clock time of the last result (ms); 0 before the first. */
  lastProbeAt: number;
  /** The last probe's reason; '' before the first. */
  lastResult: string;
  /** Milliseconds the last probe took; -1 before the first. */
  lastLatencyMs: number;
}

/** Seams for tests and for a shared clock; both default to the real thing. */
export interface ActiveHealthOptions {
  /** Wall clock in ms for `at` and `lastProbeAt` (default Date.now). */
  now?: () => number;
  /** Uniform random number in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
}

/** Started, stopped or not yet started: a stopped checker never probes again. */
type CheckerPhase = 'idle' | 'running' | 'stopped';

/** One target's probe loop: its counter, its pending timer and the probe in flight. */
interface TargetRun {
  readonly index: number;
  readonly target: ProbeTarget;
  readonly prober: Prober;
  readonly counter: HealthCounter;
  timer: NodeJS.Timeout | undefined;
  inflight: Promise<void> | undefined;
  lastProbeAt: number;
  lastResult: string;
  lastLatencyMs: number;
}

/**
 * Active health checks of one upstream's servers. Each server has its own loop: wait (jittered),
 * probe, count the result towards the thresholds, wait again; probes of one server never overlap
 * and the wait starts when the previous probe ends. Every state change calls `onTransition`.
 */
export class ActiveHealthChecker {
  private readonly upstream: string;
  private readonly config: ActiveHealthConfig;
  private readonly onTransition: (transition: HealthTransition) => void;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly runs: TargetRun[];
  /** Cancels every probe in flight when the checker stops. */
  private readonly cancel = new AbortController();
  private phase: CheckerPhase = 'idle';

  constructor(
    upstream: string,
    targets: readonly ProbeTarget[],
    config: ActiveHealthConfig,
    onTransition: (transition: HealthTransition) => void,
    options: ActiveHealthOptions = {},
  ) {
    if (!(config.interval > 0) || !(config.timeout > 0)) {
      throw new GatewayError(
        'GW_HEALTH_CONFIG',
        `active health of upstream "${upstream}": interval and timeout must be positive (got ${config.interval} ms and ${config.timeout} ms)`,
      );
    }
    this.upstream = upstream;
    this.config = config;
    this.onTransition = onTransition;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    // Every probe in flight listens on the one cancel signal: as many listeners as servers is expected.
    setMaxListeners(0, this.cancel.signal);
    const expectations = compileExpectations(config);
    this.runs = targets.map((target, index) => ({
      index,
      target,
      prober:
        config.type === 'tcp'
          ? new TcpProber(upstream, target, config)
          : new HttpProber(upstream, target, config, expectations),
      counter: new HealthCounter(config.initial, config.healthy_after, config.unhealthy_after),
      timer: undefined,
      inflight: undefined,
      lastProbeAt: 0,
      lastResult: '',
      lastLatencyMs: -1,
    }));
  }

  /**
   * Schedules every server's first probe within interval × jitter of now, so servers (and gateways
   * started together) are not all probed in the same instant. Timers are unref'd: health checks
   * alone never keep the process alive. Calling it again while running does nothing.
   */
  start(): void {
    if (this.phase === 'running') return;
    if (this.phase === 'stopped') {
      throw new GatewayError(
        'GW_HEALTH_STOPPED',
        `active health of upstream "${this.upstream}" was stopped; create a new checker`,
      );
    }
    this.phase = 'running';
    for (const run of this.runs)
      this.schedule(run, firstProbeDelayMs(this.config.interval, this.config.jitter, this.random()));
  }

  /** Cancels the timers and the probes in flight, and resolves once every probe socket is closed. */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    for (const run of this.runs) {
      clearTimeout(run.timer);
      run.timer = undefined;
    }
    this.cancel.abort();
    await Promise.all(this.runs.map((run) => run.inflight));
  }

  state(index: number): HealthState {
    return this.run(index).counter.state;
  }

  /** Probes one server now (a managed server just became ready); later probes keep the interval. */
  checkNow(index: number): void {
    const run = this.run(index);
    if (this.phase !== 'running' || run.inflight !== undefined) return;
    clearTimeout(run.timer);
    this.probe(run);
  }

  snapshot(): HealthSnapshot[] {
    return this.runs.map((run) => ({
      server: run.target.name,
      state: run.counter.state,
      consecutiveOk: run.counter.consecutiveOk,
      consecutiveFail: run.counter.consecutiveFail,
      lastProbeAt: run.lastProbeAt,
      lastResult: run.lastResult,
      lastLatencyMs: run.lastLatencyMs,
    }));
  }

  private run(index: number): TargetRun {
    const run = this.runs[index];
    if (run === undefined) throw new RangeError(`upstream "${this.upstream}" has no server ${index}`);
    return run;
  }

  private schedule(run: TargetRun, delayMs: number): void {
    run.timer = setTimeout(() => this.probe(run), delayMs);
    run.timer.unref();
  }

  private probe(run: TargetRun): void {
    run.timer = undefined;
    const signal = this.cancel.signal;
    run.inflight = Promise.resolve()
      .then(() => run.prober.probe(signal))
      .catch((error: unknown): ProbeResult => {
        // A prober turns every network failure into a result; what reaches here is a probe that
        // could not even be built (an invalid origin or header), which fails the check visibly.
        const message = error instanceof Error ? error.message : String(error);
        return { ok: false, reason: `the health check could not run: ${message}`, latencyMs: 0 };
      })
      .then((result) => {
        run.inflight = undefined;
        this.record(run, result);
      });
  }

  private record(run: TargetRun, result: ProbeResult): void {
    if (this.phase !== 'running') return;
    const at = this.now();
    run.lastProbeAt = at;
    run.lastResult = result.reason;
    run.lastLatencyMs = result.latencyMs;
    this.schedule(run, nextProbeDelayMs(this.config.interval, this.config.jitter, this.random()));
    const change = run.counter.record(result.ok);
    if (change === undefined) return;
    const streak = `${change.streak} consecutive ${result.ok ? 'passed' : 'failed'} check${change.streak === 1 ? '' : 's'}`;
    const transition: HealthTransition = {
      upstream: this.upstream,
      server: run.target.name,
      index: run.index,
      from: change.from,
      to: change.to,
      reason: `${result.reason} (${streak})`,
      at,
    };
    try {
      this.onTransition(transition);
    } catch (error) {
      // A listener's fault is its own: it surfaces as an uncaught exception, and the probe loop,
      // already rescheduled, keeps going.
      process.nextTick(() => {
        throw error;
      });
    }
  }
}
