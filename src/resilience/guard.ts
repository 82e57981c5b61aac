/**
 * Everything that protects one upstream, wired together: active checks, outlier ejection, a breaker
 * per server, draining, slow start and the panic threshold decide which servers the balancer may
 * pick (`server.available`); the retry policy and budget, the admission queue and the per-server
 * connection limit decide how much traffic goes at all.
 *
 * Availability is recomputed on every transition and on every clock tick, never per request: a pick
 * only reads `available`.
 */
import type { UpstreamConfig } from '../config/index.js';
import type { Upstream, UpstreamServer } from '../upstream/index.js';
import type { ActiveHealthChecker, HealthTransition, ProbeTarget } from './active-health.js';
import { CircuitBreaker } from './breaker.js';
import type { EventSink, ResilienceEvent } from './events.js';
import { OutlierDetector } from './passive-health.js';
import { AdmissionQueue } from './queue.js';
import { RetryPolicy } from './retry.js';
import { effectiveWeight } from './slow-start.js';
import type { TimeSource } from './time.js';

/** What the guard keeps per server, beside the balancer's fields on the server itself. */
export interface ServerGuard {
  /** Active checks say healthy (or there are none). */
  healthy: boolean;
  /** Drained by an operator: no new requests. */
  draining: boolean;
  /** A managed server's process is up and ready (always true for servers Gatewise does not run). */
  processReady: boolean;
  breaker: CircuitBreaker | null;
  /** When the server last became usable again (slow start ramps from here); 0 = always was. */
  usableSince: number;
  /** Usable on its own merits (before the panic threshold is applied). */
  usable: boolean;
  /** The last active-check result, for the admin API. */
  lastCheck: string;
  /**
   * Another node ejected this server and said so (an ejection hint): it stays out until this time
   * (ms on the guard's clock) or until one of this node's own checks passes; 0 = no hint.
   */
  hintedUntil: number;
  /** `lastProbeAt` of the server's checks when the hint came: a later passing probe clears it. */
  hintProbeMark: number;
}

/** A server's state decided by the node's primary process (see `UpstreamGuard.follow`). */
export interface FollowedState {
  healthy: boolean;
  lastCheck: string;
  draining: boolean;
  processReady: boolean;
  /** Until when (ms since the epoch: the guard's clock is the wall clock) a hint keeps the server out; 0 = no hint. */
  hintedUntil: number;
}

export type GuardEvent =
  | ResilienceEvent
  | { kind: 'health'; upstream: string; server: string; from: string; to: string; reason: string }
  | { kind: 'drain'; upstream: string; server: string; draining: boolean }
  | { kind: 'panic'; upstream: string; active: boolean; available: number; total: number };

export class UpstreamGuard<Q> {
  readonly retry: RetryPolicy;
  readonly queue: AdmissionQueue<Q>;
  readonly outliers: OutlierDetector;
  readonly servers: ServerGuard[];
  /** Upstream statuses that count as failures for passive health and the breaker. */
  private readonly failureStatuses = new Uint8Array(600);
  readonly maxConnectionsPerServer: number;
  readonly retryAfterSeconds: number;
  private readonly panicThreshold: number;
  private readonly slowStartMs: number;
  private checker: ActiveHealthChecker | undefined;
  private probeTargets: ProbeTarget[] = [];
  private readonly activeConfig: UpstreamConfig['health']['active'];
  private stopped = false;
  /** Servers holding a hint now (so that nothing hint-related runs while there are none). */
  private hinted = 0;
  /**
   * Health, drain, process and hint state come from elsewhere through `follow` (a worker process
   * whose node primary runs the checks and the supervisor); passive health and breakers stay local.
   */
  private following = false;
  panic = false;

  constructor(
    private readonly upstream: Upstream<unknown>,
    config: UpstreamConfig,
    private readonly time: TimeSource,
    private readonly emit: (event: GuardEvent) => void,
    /** Whether a managed server's process is ready now (by server URL); omitted = no managed servers. */
    processReady?: (url: string) => boolean,
  ) {
    const name = upstream.name;
    const health = config.health;
    const sink: EventSink = (event) => this.onResilienceEvent(event);
    this.retry = new RetryPolicy({
      attempts: config.retries.attempts,
      on: config.retries.on.map(String),
      per_try_timeout: config.retries.per_try_timeout,
      deadline: config.retries.deadline,
      backoff: config.retries.backoff,
      body_limit: config.retries.body_limit,
      budget: { percent: config.retries.budget.percent / 100, min_per_second: config.retries.budget.min_per_second },
    });
    this.queue = new AdmissionQueue<Q>({
      max_inflight: config.limits.max_inflight,
      queue: config.limits.queue,
      queue_timeout: config.limits.queue_timeout,
    });
    this.outliers = new OutlierDetector(
      name,
      upstream.servers.map((s) => s.address),
      {
        failures: health.passive.failures,
        window: health.passive.window,
        eject_for: health.passive.eject_for,
        max_eject_for: health.passive.max_eject_for,
        max_ejected_percent: health.passive.max_ejected_percent / 100,
        latency: health.passive.latency,
      },
      time,
      sink,
    );
    for (const status of health.passive.statuses) this.failureStatuses[status] = 1;
    const initialHealthy = health.active ? health.active.initial === 'healthy' : true;
    this.servers = upstream.servers.map((s) => ({
      healthy: initialHealthy,
      draining: false,
      processReady: processReady?.(s.key.split('#')[0]!) ?? true,
      breaker: config.breaker ? new CircuitBreaker(name, s.address, config.breaker, sink) : null,
      usableSince: 0,
      usable: true,
      lastCheck: '',
      hintedUntil: 0,
      hintProbeMark: 0,
    }));
    this.maxConnectionsPerServer = config.limits.max_connections_per_server;
    this.retryAfterSeconds = Math.max(1, Math.ceil(config.limits.retry_after / 1000));
    this.panicThreshold = health.panic_threshold;
    this.slowStartMs = config.slow_start;
    if (health.active) {
      this.probeTargets = upstream.servers.map((s) => ({
        name: s.address,
        kind: s.kind,
        host: s.host,
        port: s.port,
        socketPath: s.socketPath,
        tls: s.tls
          ? { ca: s.tls.ca, servername: s.tls.servername, rejectUnauthorized: s.tls.rejectUnauthorized }
          : undefined,
      }));
    }
    this.activeConfig = health.active;
    this.refresh();
  }

  /**
   * Starts active checks, if configured. The checker (and undici with it, about 12 MB) is loaded
   * only by upstreams that use active checks.
   */
  async start(): Promise<void> {
    if (this.activeConfig === undefined || this.checker !== undefined || this.stopped) return;
    const { ActiveHealthChecker } = await import('./active-health.js');
    if (this.stopped) return;
    this.checker = new ActiveHealthChecker(this.upstream.name, this.probeTargets, this.activeConfig, (t) =>
      this.onHealthTransition(t),
    );
    this.checker.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.checker?.stop();
  }

  /** Whether an upstream response status counts as the server failing (passive health, breaker). */
  isFailureStatus(status: number): boolean {
    return this.failureStatuses[status] === 1;
  }

  /** The outcome of one try on `server` (a gateway failure, or a response with its status). */
  record(server: UpstreamServer<unknown>, success: boolean, latencyMs: number): void {
    const now = this.time.now;
    const i = server.index;
    if (success) this.outliers.recordSuccess(i, latencyMs);
    else this.outliers.recordFailure(i);
    this.servers[i]!.breaker?.record(success, now);
    if (!success) this.refresh();
  }

  /** A response cut after its head: counts against the server's passive health. */
  recordBodyFailure(server: UpstreamServer<unknown>): void {
    this.outliers.recordFailure(server.index);
    this.refresh();
  }

  /**
   * May a request go to `server` now? Checks the per-server connection limit and the breaker (a
   * half-open breaker admits only a few probes). A true must be followed by `record` or `abandon`.
   */
  admit(server: UpstreamServer<unknown>): boolean {
    if (this.maxConnectionsPerServer > 0 && server.inflight >= this.maxConnectionsPerServer) return false;
    const breaker = this.servers[server.index]!.breaker;
    return breaker === null || breaker.tryAcquire(this.time.now);
  }

  /** A try admitted by `admit` that ended without an outcome (the client went away). */
  abandon(server: UpstreamServer<unknown>): void {
    const breaker = this.servers[server.index]!.breaker;
    if (breaker !== null && breaker.state === 'half_open') breaker.release();
  }

  setDraining(index: number, draining: boolean): boolean {
    const guard = this.servers[index];
    if (guard === undefined) return false;
    if (guard.draining !== draining) {
      guard.draining = draining;
      this.emit({
        kind: 'drain',
        upstream: this.upstream.name,
        server: this.upstream.servers[index]!.address,
        draining,
      });
      this.refresh();
    }
    return true;
  }

  /** A managed server's process became ready (its checks pass) or went away. */
  setProcessReady(index: number, ready: boolean): boolean {
    const guard = this.servers[index];
    if (guard === undefined) return false;
    if (guard.processReady !== ready) {
      guard.processReady = ready;
      // A new process: the old one's ejection and open breaker do not describe it.
      if (ready) {
        this.outliers.replaced(index);
        guard.breaker?.replaced(this.time.now);
        // Its health checks failed while it was down: check it again now rather than an interval later.
        this.checker?.checkNow(index);
      }
      this.refresh();
    }
    return true;
  }

  /**
   * Another node ejected this server (an ejection hint): probe it now with this node's own check and
   * keep it out until that check passes or `forMs` has passed. Health stays this node's own: the
   * hint only makes it look sooner. Without active checks there is nothing to look with, so the hint
   * is not applied (false); passive health still sees the server's failures.
   */
  applyHint(index: number, forMs: number): boolean {
    const guard = this.servers[index];
    const checker = this.checker;
    if (guard === undefined || checker === undefined || this.stopped || !(forMs > 0)) return false;
    if (guard.hintedUntil === 0) this.hinted++;
    guard.hintedUntil = Math.max(guard.hintedUntil, this.time.now + forMs);
    guard.hintProbeMark = checker.snapshot()[index]?.lastProbeAt ?? 0;
    this.refresh();
    checker.checkNow(index);
    return true;
  }

  /**
   * The state this guard does not decide itself, as the node's primary process sees it: active
   * health, drain, the managed process and hints. Transitions were logged
   * where they happened, so none is emitted here; a process that became ready is a new process for
   * this guard's passive health and breaker too.
   */
  follow(index: number, state: FollowedState): void {
    const g = this.servers[index];
    if (g === undefined) return;
    this.following = true;
    g.healthy = state.healthy;
    g.lastCheck = state.lastCheck;
    g.draining = state.draining;
    if (state.processReady && !g.processReady) {
      this.outliers.replaced(index);
      g.breaker?.replaced(this.time.now);
    }
    g.processReady = state.processReady;
    const hintedUntil = state.hintedUntil > this.time.now ? state.hintedUntil : 0;
    if (hintedUntil > 0 && g.hintedUntil === 0) this.hinted++;
    if (hintedUntil === 0 && g.hintedUntil > 0) this.hinted--;
    g.hintedUntil = hintedUntil;
    this.refresh();
  }

  /** What `follow` takes for one server, read from a guard that decides it (`followed`). */
  followed(index: number): FollowedState | undefined {
    const g = this.servers[index];
    if (g === undefined) return undefined;
    return {
      healthy: g.healthy,
      lastCheck: g.lastCheck,
      draining: g.draining,
      processReady: g.processReady,
      hintedUntil: g.hintedUntil > this.time.now ? g.hintedUntil : 0,
    };
  }

  /** Whether a hint keeps the server out now (see applyHint). */
  isHinted(index: number): boolean {
    const guard = this.servers[index];
    return guard !== undefined && guard.hintedUntil > this.time.now;
  }

  /** Called on every clock tick: expired ejections, elapsed breaker open times, slow-start weights. */
  tick(): void {
    this.outliers.tick(this.time.now);
    if (this.hinted > 0) this.reviewHints();
    this.refresh();
  }

  /** Hints end when their time is up or when a check that ran after them passed. */
  private reviewHints(): void {
    const now = this.time.now;
    const probes = this.checker?.snapshot();
    for (let i = 0; i < this.servers.length; i++) {
      const g = this.servers[i]!;
      if (g.hintedUntil === 0) continue;
      const probe = probes?.[i];
      const passedSince = probe !== undefined && probe.lastProbeAt > g.hintProbeMark && probe.consecutiveOk > 0;
      // A follower's hints end when the primary says so (its checks) or when their time is up.
      if (now >= g.hintedUntil || passedSince || (probes === undefined && !this.following)) {
        g.hintedUntil = 0;
        this.hinted--;
      }
    }
  }

  /** Recomputes every server's `available` (and slow-start weight) from its state. */
  refresh(): void {
    const now = this.time.now;
    const servers = this.upstream.servers;
    // A hint is another node's observation: it may take servers out, but never the last one this node
    // still finds usable (with none left, every request would get a 503 on hearsay; Envoy's panic
    // reasoning). Then hints are set aside until this node's own checks decide.
    const honourHints = this.hinted > 0 && this.usableCount(now) > 0;
    let primaries = 0;
    let usablePrimaries = 0;
    let usableBackups = 0;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i]!;
      const g = this.servers[i]!;
      const usable = this.usableOnOwn(i, now) && !(honourHints && g.hintedUntil > now);
      if (usable && !g.usable) g.usableSince = now;
      g.usable = usable;
      if (s.backup) {
        if (usable) usableBackups++;
      } else {
        primaries++;
        if (usable) usablePrimaries++;
      }
      if (this.slowStartMs > 0) s.weight = effectiveWeight(s.baseWeight, g.usableSince, now, this.slowStartMs);
    }
    // Envoy's panic mode: when some but too few primaries are healthy (and no backup can take over),
    // trusting health would pile everything on the few; spread over all primaries instead. With none
    // healthy at all, requests get 503 at once rather than being sent to servers known to be down.
    const panic =
      this.panicThreshold > 0 &&
      usablePrimaries > 0 &&
      usableBackups === 0 &&
      usablePrimaries < primaries * this.panicThreshold;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i]!;
      const g = this.servers[i]!;
      // Panic spreads load over servers health says are out, never over one whose process is not there.
      s.available = panic && !s.backup ? !g.draining && g.processReady : g.usable;
    }
    if (panic !== this.panic) {
      this.panic = panic;
      this.emit({
        kind: 'panic',
        upstream: this.upstream.name,
        active: panic,
        available: usablePrimaries,
        total: primaries,
      });
    }
  }

  /** Usable by this node's own state: health, drain, process, ejection and breaker. */
  private usableOnOwn(index: number, now: number): boolean {
    const g = this.servers[index]!;
    const breaker = g.breaker;
    return (
      g.healthy &&
      !g.draining &&
      g.processReady &&
      !this.outliers.isEjected(index, now) &&
      (breaker === null || breaker.state !== 'open' || now >= breaker.openUntilMs)
    );
  }

  /** Servers (primaries and backups) usable now, hints counted. */
  private usableCount(now: number): number {
    let count = 0;
    for (let i = 0; i < this.servers.length; i++) {
      if (this.usableOnOwn(i, now) && !(this.servers[i]!.hintedUntil > now)) count++;
    }
    return count;
  }

  /** Whether passive health has the server out of rotation now. */
  isEjected(index: number): boolean {
    return this.outliers.isEjected(index, this.time.now);
  }

  snapshot(index: number): Record<string, unknown> {
    const g = this.servers[index]!;
    return {
      healthy: g.healthy,
      draining: g.draining,
      process_ready: g.processReady,
      passive: this.outliers.state(index),
      ejected_until: this.outliers.isEjected(index, this.time.now)
        ? new Date(this.outliers.ejectedUntilMs(index)).toISOString()
        : undefined,
      breaker: g.breaker?.state ?? 'none',
      last_check: g.lastCheck || undefined,
      hinted_until: g.hintedUntil > this.time.now ? new Date(g.hintedUntil).toISOString() : undefined,
    };
  }

  private onHealthTransition(t: HealthTransition): void {
    const g = this.servers[t.index];
    if (g === undefined) return;
    g.healthy = t.to === 'healthy';
    g.lastCheck = t.reason;
    this.emit({ kind: 'health', upstream: t.upstream, server: t.server, from: t.from, to: t.to, reason: t.reason });
    this.refresh();
  }

  private onResilienceEvent(event: ResilienceEvent): void {
    this.emit(event);
  }
}
