/**
 * A running Gatewise: the gateway, its admin API and its logs, wired together; reload from the config
 * file (SIGHUP, `gatewise reload`, admin `POST /api/reload`) and graceful stop.
 */
import type { ServerResponse } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import { AdminServer, DASHBOARD_HTML } from './admin/index.js';
import type { createSharedState, SharedState } from './cluster/redis/index.js';
import type { WorkerPool } from './cluster/workers/pool.js';
import type { FollowedStates } from './cluster/workers/protocol.js';
import { type Config, loadConfigFile, redactConfig } from './config/index.js';
import { ConfigError, formatProblem, GatewayError } from './errors.js';
import {
  AlertEngine,
  createLogs,
  EventBus,
  FanOut,
  type LogFormat,
  LogObserver,
  type Logs,
  Metrics,
  registerAlertMetrics,
  registerProcessMetrics,
} from './observe/index.js';
import type { LiveServer, LiveUpstream } from './observe/live.js';
import { RecentFailures } from './observe/recent-failures.js';
import { ServerStats } from './observe/stats.js';
import { Gateway, type Runtime } from './proxy/index.js';
import { type ProcessSnapshot, Supervisor } from './supervise/index.js';

export interface ServiceOptions {
  config: Config;
  /** The file the config came from; reload reads it again. Undefined for the built-in demo. */
  configFile?: string | undefined;
  logFormat?: LogFormat | undefined;
  /**
   * Builds the Redis shared state when the config has `cluster.redis`. `Service.create` loads it
   * (the Redis client is loaded only by nodes that use it).
   */
  sharedState?: typeof createSharedState | undefined;
  /** A cluster node's shared configuration (etcd): reload reads it instead of a file. */
  source?: ConfigSource | undefined;
  /**
   * Worker processes serving the requests (`serve --workers`); this process then runs everything
   * else once for the node: health checks, supervisor, shared state, alerts and the admin API.
   * Omitted or 0: this process serves the requests itself.
   */
  workers?: number | undefined;
}

/** Where a cluster node's configuration comes from instead of a file. */
export interface ConfigSource {
  /** Reads the configuration again and applies it (SIGHUP, `gatewise reload`, admin POST /api/reload). */
  reload(): Promise<ReloadResult>;
  /** This node's record and every node's (admin GET /api/cluster). */
  cluster(): Promise<unknown>;
}

export type ReloadResult = { ok: true; generation: number } | { ok: false; problems: string[] };

/** What `/api/status` says of a managed server's process (the rest is in `/api/processes`). */
function summary(p: ProcessSnapshot | undefined): Record<string, unknown> | undefined {
  if (p === undefined) return undefined;
  return { state: p.state, pid: p.pid, restarts: p.restarts, last_exit: p.last_exit?.reason ?? null };
}

/** Every server's state decided here, for the workers to follow (by upstream and server key). */
function followedStates(runtime: Runtime): FollowedStates {
  const out: FollowedStates = {};
  for (const [name, guard] of runtime.guards) {
    const servers: FollowedStates[string] = {};
    for (const server of runtime.upstreams.get(name)!.servers) {
      const state = guard.followed(server.index);
      if (state !== undefined) servers[server.key] = state;
    }
    out[name] = servers;
  }
  return out;
}

/** The last of `values` in `order` (the worst state); `order[0]` when there are none. */
function worst(order: readonly string[], values: readonly string[]): string {
  return values.reduce((w, v) => (order.indexOf(v) > order.indexOf(w) ? v : w), order[0]!);
}

/** One server's request-path state over the workers: counts added, the worst state shown. */
function acrossWorkers(servers: readonly LiveServer[]): Record<string, unknown> {
  const until = servers.flatMap((s) => (s.ejected_until ? [s.ejected_until] : [])).sort();
  return {
    available: servers.every((s) => s.available),
    inflight: servers.reduce((n, s) => n + s.inflight, 0),
    open_connections: servers.reduce((n, s) => n + s.open, 0),
    idle_connections: servers.reduce((n, s) => n + s.idle, 0),
    breaker: worst(
      ['none', 'closed', 'half_open', 'open'],
      servers.map((s) => s.breaker),
    ),
    ejected_until: until.at(-1),
    passive: worst(
      ['healthy', 'probation', 'ejected'],
      servers.map((s) => String(s.passive)),
    ),
  };
}

export class Service {
  readonly gateway: Gateway;
  readonly logs: Logs;
  readonly events: EventBus;
  /** Per-server rates, errors and latency over the last minute. */
  readonly stats: ServerStats;
  /** The last upstream failures with their diagnosis. */
  readonly failures: RecentFailures;
  /** Prometheus metrics, served at admin /metrics. */
  readonly metrics: Metrics;
  /** Alert rules, their state and notifiers. */
  readonly alerts: AlertEngine;
  /** Managed backend processes (servers with `run`). */
  readonly supervisor: Supervisor;
  /** State shared with the other nodes through Redis (cluster rate limits, ejection hints, alert claims). */
  readonly shared: SharedState | undefined;
  private readonly rolling = new Map<string, Promise<unknown>>();
  private admin: AdminServer | undefined;
  adminAddress = '';
  private reloading: Promise<ReloadResult> | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  private readonly startedAt = Date.now();
  /** The worker processes, with `options.workers`. */
  private pool: WorkerPool | undefined;
  private followTimer: NodeJS.Timeout | undefined;
  private lastFollowed = '';

  constructor(private readonly options: ServiceOptions) {
    const config = options.config;
    this.logs = createLogs({
      level: config.log.level,
      format: options.logFormat ?? config.log.format,
      file: config.log.file,
    });
    const logObserver = new LogObserver(this.logs.logger, () => this.gateway.runtime.accessLog, this.logs.writeLine);
    const workers = (options.workers ?? 0) > 0;
    this.stats = new ServerStats();
    this.failures = new RecentFailures();
    this.metrics = new Metrics({ gauges: workers ? 'primary' : 'all' });
    const observer = new FanOut([logObserver, this.stats, this.failures, this.metrics]);
    this.events = new EventBus();
    // Every transition is one log record: warn when a server goes out, info when it comes back.
    this.events.on((event) => {
      const out =
        (event.kind === 'health' && event.to === 'unhealthy') ||
        event.kind === 'ejected' ||
        (event.kind === 'breaker' && event.to === 'open') ||
        (event.kind === 'panic' && event.active) ||
        (event.kind === 'alert' && event.state === 'firing') ||
        (event.kind === 'process' && (event.state === 'failed' || (event.exit?.cause ?? null) !== null));
      this.logs.logger[out ? 'warn' : 'info']({ msg: `event: ${event.kind}`, ...event });
    });
    this.supervisor = new Supervisor({
      runtime: () => this.gateway?.runtime ?? null,
      emit: (event) => this.events.emit(event),
      output: (record) => this.logs.logger.info(record),
    });
    this.supervisor.adopt(config);
    // A shared document pushed to etcd cannot know whether each node has Redis: a cluster-scoped
    // limit on a node without it is the local limit, said once here rather than refused.
    if (config.cluster?.redis === undefined) {
      const routes = config.routes.flatMap((r, i) =>
        r.rate_limit?.scope === 'cluster' ? [`#${i} ${r.match.path ?? '/'}`] : [],
      );
      if (routes.length > 0)
        this.logs.logger.warn({
          msg: 'rate_limit scope cluster without cluster.redis: these routes use the local limit',
          routes,
        });
    }
    if (config.cluster?.redis !== undefined && options.sharedState === undefined)
      throw new GatewayError('GW_SERVICE_REDIS', 'cluster.redis is set: create the service with Service.create()');
    this.shared = options.sharedState?.(config, {
      registry: this.metrics.register,
      warn: (record) => this.logs.logger.warn(record),
      info: (record) => this.logs.logger.info(record),
      events: this.events,
      runtime: () => this.gateway.runtime,
    });
    this.gateway = new Gateway(config, {
      observer,
      events: this.events,
      processReady: (upstream, url) => this.supervisor.isReady(upstream, url),
      rateLimiterFor: this.shared?.rateLimiterFor,
      role: workers ? 'primary' : undefined,
    });
    this.metrics.attach(this.events);
    this.metrics.collectFrom(() => this.gateway);
    this.alerts = new AlertEngine({
      runtime: () => this.gateway.runtime,
      totals: () => this.pool?.totals() ?? this.metrics.totals(),
      live: workers ? () => this.pool?.live() ?? [] : undefined,
      emit: (transition) => this.events.emit(transition),
      warn: (record) => this.logs.logger.warn(record),
      externalUrl: () => `http://${this.adminAddress}`,
      processes: () => this.supervisor.facts(),
      claim: this.shared?.alertClaim,
    });
    this.alerts.configure(config.alerts);
    registerAlertMetrics(this.metrics.register, () => this.alerts);
    registerProcessMetrics(this.metrics.register, () => this.supervisor.list());
  }

  /** A Service, with the Redis shared state loaded when the config asks for it. */
  static async create(options: ServiceOptions): Promise<Service> {
    if (options.config.cluster?.redis === undefined || options.sharedState !== undefined) return new Service(options);
    const { createSharedState } = await import('./cluster/redis/index.js');
    return new Service({ ...options, sharedState: createSharedState });
  }

  async start(): Promise<void> {
    await this.shared?.start();
    this.supervisor.start();
    await this.gateway.start();
    const config = this.options.config;
    if ((this.options.workers ?? 0) > 0) await this.startWorkers(config);
    this.admin = new AdminServer(
      [
        {
          method: 'GET',
          path: '/healthz',
          open: true,
          handle: async () => ({ status: 200, body: { status: 'ok' } }),
        },
        {
          method: 'GET',
          path: '/readyz',
          open: true,
          handle: async () => {
            const ready = this.readiness();
            return { status: ready.ready ? 200 : 503, body: ready };
          },
        },
        {
          method: 'GET',
          path: '/api/status',
          handle: async () => ({ status: 200, body: this.status() }),
        },
        {
          method: 'GET',
          path: '/api/config',
          handle: async () => ({ status: 200, body: redactConfig(this.gateway.runtime.config) }),
        },
        {
          method: 'GET',
          path: '/',
          handle: async () => ({ status: 200, body: DASHBOARD_HTML, contentType: 'text/html; charset=utf-8' }),
        },
        {
          method: 'GET',
          path: '/metrics',
          handle: async () => ({
            status: 200,
            body: await this.renderMetrics(),
            contentType: this.metrics.contentType,
          }),
        },
        {
          method: 'GET',
          path: '/api/stream',
          stream: (_req, res) => this.streamSnapshots(res),
        },
        {
          method: 'GET',
          path: '/api/failures',
          handle: async () => ({ status: 200, body: this.failures.list(100) }),
        },
        {
          method: 'GET',
          path: /^\/api\/failures\/([^/]+)$/,
          handle: async (_req, [id]) => {
            const records = this.failures.all(id!);
            return records.length > 0
              ? { status: 200, body: records }
              : { status: 404, body: { error: `no recent failure for request ${id}` } };
          },
        },
        {
          method: 'GET',
          path: '/api/alerts',
          handle: async () => ({ status: 200, body: this.alertsView() }),
        },
        {
          method: 'GET',
          path: '/api/processes',
          handle: async () => ({ status: 200, body: this.processesView(50) }),
        },
        {
          method: 'POST',
          path: /^\/api\/upstreams\/([^/]+)\/restart$/,
          handle: async (_req, [name]) => this.rollingRestart(name!),
        },
        {
          method: 'GET',
          path: '/api/events',
          handle: async () => ({ status: 200, body: { counts: this.events.counts, recent: this.events.recent() } }),
        },
        {
          method: 'POST',
          path: /^\/api\/upstreams\/([^/]+)\/servers\/(\d+)\/(drain|undrain)$/,
          handle: async (_req, [name, index, action]) => this.drain(name!, Number(index), action === 'drain'),
        },
        {
          method: 'GET',
          path: '/api/cluster',
          handle: async () =>
            this.options.source === undefined
              ? { status: 404, body: { error: 'this gateway is not a cluster node (its file has no cluster.etcd)' } }
              : { status: 200, body: await this.options.source.cluster() },
        },
        {
          method: 'POST',
          path: '/api/reload',
          handle: async () => {
            const result = await this.reload();
            return { status: result.ok ? 200 : 400, body: result };
          },
        },
      ],
      config.admin.token ?? '',
    );
    this.adminAddress = await this.admin.listen(config.admin.address);
    this.alerts.start();
    this.logs.logger.info({
      msg: 'gatewise started',
      listen: this.listenAddresses(),
      admin: this.adminAddress,
      ...(this.pool ? { workers: this.pool.list().map((w) => w.pid) } : {}),
    });
  }

  /** The addresses the gateway listens on (the workers', which share them). */
  listenAddresses(): string[] {
    return this.pool?.addresses ?? this.gateway.addresses();
  }

  /**
   * Forks the workers and keeps them following this process's decisions: every server's health,
   * drain, process and hint state, sent at once on each transition and checked every 100 ms (hints
   * and reloads change it without an event).
   */
  private async startWorkers(config: Config): Promise<void> {
    const { WorkerPool } = await import('./cluster/workers/pool.js');
    this.pool = new WorkerPool({
      count: this.options.workers!,
      logFormat: this.options.logFormat,
      logger: this.logs.logger,
      events: this.events,
      failures: this.failures,
      state: () => followedStates(this.gateway.runtime),
      lease: (seq, route, key, want) => this.lease(seq, route, key, want),
    });
    await this.pool.start(config);
    const follow = () => {
      const state = followedStates(this.gateway.runtime);
      const signature = JSON.stringify(state);
      if (signature === this.lastFollowed) return;
      this.lastFollowed = signature;
      this.pool?.follow(state);
    };
    this.lastFollowed = JSON.stringify(followedStates(this.gateway.runtime));
    this.events.on((event) => {
      if (event.kind === 'health' || event.kind === 'drain' || event.kind === 'process') follow();
    });
    this.followTimer = setInterval(follow, 100);
    this.followTimer.unref();
  }

  /**
   * A worker's lease of a route's rate-limit tokens: up to `want` from this node's limiter of that
   * route (local, or the Redis-backed one). A worker still on another configuration is not limited
   * for the moment a reload takes.
   */
  private lease(seq: number, route: number, key: string, want: number): [number, number] {
    const limiter = this.gateway.runtime.routes[route]?.rateLimiter;
    if (seq !== this.pool?.configSeq || limiter == null) return [want, 0];
    const now = this.gateway.ctx.clock.now;
    let granted = 0;
    while (granted < want && limiter.take(key, now)) granted++;
    return [granted, granted < want ? limiter.retryAfterMs(key, now) : 0];
  }

  /** This process's metrics, and with workers every worker's added up (see GaugeSet). */
  private async renderMetrics(): Promise<string> {
    if (this.pool === undefined) return this.metrics.render();
    const own = await this.metrics.register.getMetricsAsJSON();
    const workers = await this.pool.metrics();
    return AggregatorRegistry.aggregate([own, ...workers]).metrics();
  }

  status(): unknown {
    const rt = this.gateway.runtime;
    const stats = new Map(
      this.serverStats()
        .snapshot()
        .map((st) => [`${st.upstream}|${st.url}`, st]),
    );
    const live = this.pool?.live();
    const processes = new Map(this.supervisor.list().map((p) => [`${p.upstream}|${p.url}`, p]));
    return {
      status: 'ok',
      pid: process.pid,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      config_generation: rt.generation,
      listen: this.listenAddresses(),
      connections: this.pool?.connections ?? this.gateway.ctx.connections.size,
      ...(this.pool ? { workers: this.pool.list(), worker_restarts: this.pool.restarts } : {}),
      alerts: this.alerts.alerts().active.map((alert) => ({
        name: alert.name,
        state: alert.state,
        severity: alert.severity,
        labels: alert.labels,
        summary: alert.annotations.summary,
      })),
      upstreams: [...rt.upstreams.values()].map((u) => {
        const inWorkers = live?.flatMap((worker) => (worker[u.name] ? [worker[u.name]!] : []));
        const sum = (read: (w: LiveUpstream) => number) => inWorkers?.reduce((n, w) => n + read(w), 0);
        return {
          name: u.name,
          balance: u.spec.balance,
          panic: inWorkers ? inWorkers.some((w) => w.panic) : (rt.guards.get(u.name)?.panic ?? false),
          queued: sum((w) => w.queued) ?? rt.guards.get(u.name)?.queue.length ?? 0,
          admitted: sum((w) => w.inflight) ?? rt.guards.get(u.name)?.queue.inflight ?? 0,
          servers: u.servers.map((s) => ({
            index: s.index,
            url: s.key,
            backup: s.backup,
            weight: s.weight,
            available: s.available,
            inflight: s.inflight,
            open_connections: s.open,
            idle_connections: s.idle.length,
            ...rt.guards.get(u.name)?.snapshot(s.index),
            ...(inWorkers ? acrossWorkers(inWorkers.flatMap((w) => w.servers.filter((l) => l.key === s.key))) : {}),
            stats: stats.get(`${u.name}|${s.key}`),
            process: summary(processes.get(`${u.name}|${s.key}`)),
          })),
        };
      }),
    };
  }

  /** Per-server statistics: this process's, or its workers' merged. */
  private serverStats(): ServerStats {
    return this.pool?.stats() ?? this.stats;
  }

  /**
   * Whether a load balancer should send this node traffic: not while it shuts down. (Backends being
   * down is not a reason: every node would say the same, and the node's explained 503 beats a
   * connection refused.)
   */
  readiness(): { ready: boolean; reason?: string } {
    if (this.gateway.ctx.draining) return { ready: false, reason: 'shutting down' };
    return { ready: true };
  }

  /** Alerts (pending, firing, recently resolved), the rules in force and each notifier's deliveries. */
  alertsView(): Record<string, unknown> {
    const redacted = redactConfig(this.gateway.runtime.config) as Config;
    return {
      ...this.alerts.alerts(),
      rules: this.alerts.ruleList(),
      notifiers: this.alerts.notifierStats().map((stats, index) => ({
        ...stats,
        url: redacted.alerts.notifiers[index]?.url,
      })),
    };
  }

  /** Managed processes with their last `lines` output lines. */
  processesView(lines: number): unknown[] {
    return this.supervisor.list().map((p) => ({
      ...p,
      lines: (this.supervisor.lines(p.upstream, p.server) ?? []).slice(-lines),
    }));
  }

  /** Restarts an upstream's managed servers one at a time (a second request waits for the first). */
  private async rollingRestart(name: string): Promise<{ status: number; body: unknown }> {
    if (!this.gateway.runtime.upstreams.has(name))
      return { status: 404, body: { error: `no upstream named "${name}"` } };
    if (!this.supervisor.list().some((p) => p.upstream === name))
      return { status: 409, body: { error: `upstream "${name}" has no managed server (no server with run:)` } };
    let running = this.rolling.get(name);
    if (running === undefined) {
      this.logs.logger.info({ msg: 'rolling restart', upstream: name });
      running = this.supervisor.rollingRestart(name).finally(() => this.rolling.delete(name));
      this.rolling.set(name, running);
    }
    const servers = (await running) as Array<{ server: string; ok: boolean }>;
    const ok = servers.every((s) => s.ok);
    return { status: ok ? 200 : 500, body: { upstream: name, ok, servers } };
  }

  /** Everything the dashboard shows, in one JSON value. */
  snapshot(): Record<string, unknown> {
    const stats = this.serverStats();
    return {
      time: new Date().toISOString(),
      status: this.status(),
      events: this.events.recent().slice(-40),
      failures: this.failures.list(50),
      alerts: this.alerts.alerts(),
      processes: this.processesView(20),
      series: [...this.gateway.runtime.upstreams.keys()].map((upstream) => ({
        upstream,
        buckets: stats.upstreamSeries(upstream).map((p) => ({ requests: p.requests, errors: p.failures })),
      })),
    };
  }

  /** Server-sent events: a snapshot at once, then one a second until the browser goes away. */
  private streamSnapshots(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // A cluster node adds the nodes' records (one etcd read per push; none when etcd is away).
    const push = async () => {
      const cluster = await this.options.source?.cluster().catch(() => null);
      if (!res.destroyed)
        res.write(`data: ${JSON.stringify({ ...this.snapshot(), ...(cluster ? { cluster } : {}) })}\n\n`);
    };
    void push();
    const timer = setInterval(() => void push(), 1000);
    timer.unref();
    res.once('close', () => clearInterval(timer));
  }

  /** Drain (no new requests; in-flight ones finish) or undrain one server of an upstream. */
  private async drain(name: string, index: number, draining: boolean): Promise<{ status: number; body: unknown }> {
    const guard = this.gateway.runtime.guards.get(name);
    if (guard === undefined) return { status: 404, body: { error: `no upstream named "${name}"` } };
    if (!guard.setDraining(index, draining))
      return { status: 404, body: { error: `upstream "${name}" has no server ${index}` } };
    const server = this.gateway.runtime.upstreams.get(name)!.servers[index]!;
    return { status: 200, body: { upstream: name, server: server.key, draining, inflight: server.inflight } };
  }

  /**
   * Re-reads the config file (a cluster node: its shared configuration) and swaps it in; an invalid
   * one changes nothing.
   */
  reload(): Promise<ReloadResult> {
    this.reloading ??= (this.options.source?.reload() ?? this.reloadFile()).finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadFile(): Promise<ReloadResult> {
    const file = this.options.configFile;
    if (file === undefined) return { ok: false, problems: ['the built-in demo has no config file to reload'] };
    let config: Config;
    try {
      config = await loadConfigFile(file);
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems.map(formatProblem) : [String(error)];
      this.logs.logger.error({ msg: 'reload refused: the running configuration stays', problems });
      this.metrics.recordReload(false);
      return { ok: false, problems };
    }
    return this.apply(config, file);
  }

  /**
   * Swaps in a validated configuration exactly like a reload: in-flight requests finish on the old
   * one. `origin` names where it came from in the log (a file, or `etcd:<key>@<revision>`). Calls
   * are applied one after another.
   */
  apply(config: Config, origin: string): Promise<ReloadResult> {
    const run = this.applying.then(() => this.swap(config, origin));
    this.applying = run;
    return run;
  }

  private async swap(config: Config, origin: string): Promise<ReloadResult> {
    try {
      // New managed servers start (closed to traffic until ready) before the new runtime routes to
      // them; removed ones stop once it no longer does.
      const removed = await this.supervisor.reconcile(config);
      const rt = await this.gateway.reload(config);
      this.supervisor.regate();
      const refused = (await this.pool?.configure(config)) ?? [];
      await this.supervisor.retire(removed);
      this.alerts.configure(config.alerts);
      if (refused.length > 0) {
        // Checked already: what a worker can still refuse is its environment (a listen address in use).
        this.logs.logger.error({ msg: 'reload: workers could not apply it', problems: refused });
        this.metrics.recordReload(false);
        return { ok: false, problems: refused };
      }
      this.logs.logger.info({ msg: 'configuration reloaded', generation: rt.generation, file: origin });
      this.metrics.recordReload(true);
      return { ok: true, generation: rt.generation };
    } catch (error) {
      const problems = [error instanceof Error ? error.message : String(error)];
      this.logs.logger.error({ msg: 'reload failed: the running configuration stays', problems });
      return { ok: false, problems };
    }
  }

  async stop(): Promise<void> {
    const graceMs = this.gateway.runtime.config.shutdown.grace;
    this.logs.logger.info({ msg: 'shutting down', grace_ms: graceMs });
    this.alerts.stop();
    clearInterval(this.followTimer);
    await Promise.all([this.pool?.stop(graceMs), this.gateway.stop(graceMs), this.admin?.close()]);
    await this.shared?.stop();
    await this.supervisor.stop();
    this.logs.logger.info({ msg: 'stopped' });
    this.logs.flush();
  }
}
