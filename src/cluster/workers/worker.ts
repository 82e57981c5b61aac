/**
 * A worker process of `serve --workers`: the listeners and the request path of the node, nothing else.
 *
 * It waits for its configuration from the primary, then serves. Health, drain, managed-process and
 * hint state arrive from the primary (`UpstreamGuard.follow`); passive health and breakers are this
 * worker's own, and their transitions go to the primary, which logs and counts them once. Failures,
 * counters, statistics and live state go to the primary too, which serves the admin API for all.
 */
import type { Config } from '../../config/index.js';
import {
  createLogs,
  EventBus,
  FanOut,
  type GatewayEvent,
  type LogFormat,
  LogObserver,
  type Logs,
  Metrics,
} from '../../observe/index.js';
import { liveOf } from '../../observe/live.js';
import { type FailureRecord, RecentFailures } from '../../observe/recent-failures.js';
import { ServerStats } from '../../observe/stats.js';
import { Gateway, type Runtime } from '../../proxy/index.js';
import type { RouteRateLimiter } from '../../resilience/index.js';
import { LeasedRateLimiter } from '../../resilience/leased-rate-limit.js';
import {
  FAILURES_EVERY_MS,
  type FollowedStates,
  type FromWorker,
  REPORT_EVERY_MS,
  type ToWorker,
  type WorkerReport,
} from './protocol.js';

/** Transitions a worker decides itself (the rest happen in the primary, which logs them). */
const OWN_EVENTS = new Set<string>(['ejected', 'ejection_skipped', 'restored', 'recovered', 'breaker', 'panic']);

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

/** Sends and resolves once the message is handed over (before the process exits). */
function sendNow(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Runs this process as a worker until the primary says stop (or goes away). */
export function runWorker(): void {
  let worker: Worker | undefined;
  let stopping = false;
  const stop = (graceMs: number) => {
    if (stopping) return;
    stopping = true;
    void (worker?.stop(graceMs) ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.on('message', (message: ToWorker) => {
    if (message.t === 'config') {
      if (worker === undefined) {
        worker = new Worker(message.config, message.logFormat as LogFormat | undefined, message.seq);
        worker.start(message.state).catch(async (error: unknown) => {
          await sendNow({ t: 'applied', seq: message.seq, error: (error as Error).message });
          process.exit(1);
        });
      } else void worker.apply(message.seq, message.config, message.state);
    } else if (message.t === 'stop') stop(message.graceMs);
    else worker?.handle(message);
  });
  // Messages sent before this process listened would be lost: the primary waits for this one.
  send({ t: 'hello' });
  // A terminal's Ctrl-C reaches the whole process group: the primary stops the workers in order.
  process.on('SIGINT', () => undefined);
  // Reloads go through the primary (it sends the configuration): a HUP to the group must not kill us.
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', () => stop(worker?.graceMs ?? 0));
  // The primary went away (killed): nobody is left to coordinate, stop serving.
  process.on('disconnect', () => stop(worker?.graceMs ?? 0));
}

class Worker {
  private readonly logs: Logs;
  private readonly events = new EventBus();
  private readonly metrics = new Metrics({ gauges: 'worker' });
  private readonly stats = new ServerStats();
  private readonly failures: RecentFailures;
  private readonly gateway: Gateway;
  private state: FollowedStates = {};
  private pendingFailures: FailureRecord[] = [];
  private failureTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private readonly leases = new Map<number, (granted: number, waitMs: number) => void>();
  private leaseSeq = 0;

  /** The primary's number for the configuration in force (rate-limit leases name it). */
  constructor(
    config: Config,
    logFormat: LogFormat | undefined,
    private seq: number,
  ) {
    // Each record is one write (below PIPE_BUF): lines of several processes never interleave.
    this.logs = createLogs({
      level: config.log.level,
      format: logFormat ?? config.log.format,
      file: config.log.file,
      sync: true,
    });
    // Records are made here and kept by the primary (its admin API serves them): hold just one.
    this.failures = new RecentFailures({ capacity: 1, onRecord: (record) => this.queueFailure(record) });
    const logObserver = new LogObserver(this.logs.logger, () => this.gateway.runtime.accessLog, this.logs.writeLine);
    this.events.on((event) => {
      if (OWN_EVENTS.has(event.kind)) send({ t: 'event', event: stripStamp(event) });
    });
    this.gateway = new Gateway(config, {
      observer: new FanOut([logObserver, this.stats, this.failures, this.metrics]),
      events: this.events,
      role: 'worker',
      onRuntime: (runtime) => this.follow(runtime),
      rateLimiterFor: (index, route) => this.limiterFor(index, route),
    });
    this.metrics.collectFrom(() => this.gateway);
  }

  get graceMs(): number {
    return this.gateway.runtime.config.shutdown.grace;
  }

  async start(state: FollowedStates): Promise<void> {
    this.state = state;
    await this.gateway.start();
    send({ t: 'listening', addresses: this.gateway.addresses() });
    send({ t: 'applied', seq: this.seq });
    this.reportTimer = setInterval(() => void this.report(), REPORT_EVERY_MS);
    this.reportTimer.unref();
  }

  async apply(seq: number, config: Config, state: FollowedStates): Promise<void> {
    this.state = state;
    try {
      this.seq = seq;
      await this.gateway.reload(config);
      send({ t: 'listening', addresses: this.gateway.addresses() });
      send({ t: 'applied', seq });
    } catch (error) {
      send({ t: 'applied', seq, error: (error as Error).message });
    }
  }

  handle(message: ToWorker): void {
    switch (message.t) {
      case 'state':
        this.state = message.state;
        this.follow(this.gateway.runtime);
        break;
      case 'metrics':
        void this.metrics.register
          .getMetricsAsJSON()
          .then((metrics) => send({ t: 'metrics', seq: message.seq, metrics: plain(metrics) }));
        break;
      case 'lease': {
        const done = this.leases.get(message.seq);
        this.leases.delete(message.seq);
        done?.(message.granted, message.waitMs);
        break;
      }
      default:
        break;
    }
  }

  /** Applies the primary's view of every server to a runtime's guards (by server key). */
  private follow(runtime: Runtime): void {
    for (const [name, guard] of runtime.guards) {
      const states = this.state[name];
      if (states === undefined) continue;
      for (const server of runtime.upstreams.get(name)!.servers) {
        const state = states[server.key];
        if (state !== undefined) guard.follow(server.index, state);
      }
    }
  }

  /** Every route's rate limit is the node's: tokens are leased from the primary, which holds the budget. */
  private limiterFor(index: number, route: Config['routes'][number]): RouteRateLimiter | undefined {
    const limit = route.rate_limit;
    if (limit === undefined) return undefined;
    const seq = this.seq;
    return new LeasedRateLimiter(
      { rate: limit.rate, per: limit.per, burst: limit.burst > 0 ? limit.burst : limit.rate },
      {
        up: true,
        epoch: 0,
        lease: (key, want) =>
          new Promise((resolve) => {
            const id = ++this.leaseSeq;
            this.leases.set(id, (granted, waitMs) => resolve([granted, waitMs]));
            send({ t: 'lease', seq: id, generation: seq, route: index, key, want });
          }),
      },
    );
  }

  private queueFailure(record: FailureRecord): void {
    this.pendingFailures.push(record);
    this.failureTimer ??= setTimeout(() => {
      this.failureTimer = undefined;
      send({ t: 'failures', records: this.pendingFailures.splice(0) });
    }, FAILURES_EVERY_MS);
  }

  private async report(last = false): Promise<void> {
    const metrics = await this.metrics.register.getMetricsAsJSON();
    await (last ? sendNow : send)({
      t: 'report',
      report: {
        pid: process.pid,
        connections: this.gateway.ctx.connections.size,
        totals: this.metrics.totals(),
        stats: this.stats.dump(),
        live: liveOf(this.gateway.runtime),
        counters: plain(metrics.filter((m) => ['counter', 'histogram'].includes(String(m.type)))),
      },
    });
  }

  async stop(graceMs: number): Promise<void> {
    clearInterval(this.reportTimer);
    await this.gateway.stop(graceMs);
    // The last counts and failures, so that nothing this worker served is lost to the node.
    if (this.failureTimer !== undefined) {
      clearTimeout(this.failureTimer);
      await sendNow({ t: 'failures', records: this.pendingFailures.splice(0) });
    }
    await this.report(true);
    this.logs.flush();
  }
}

/** Metrics as data (prom-client's JSON of a histogram carries its collect function). */
function plain(metrics: Awaited<ReturnType<Metrics['register']['getMetricsAsJSON']>>): WorkerReport['counters'] {
  return metrics.map(({ name, help, type, aggregator, values }) => ({
    name,
    help,
    type,
    aggregator,
    values,
  })) as WorkerReport['counters'];
}

function stripStamp(event: GatewayEvent & { at?: string }): GatewayEvent {
  const { at: _at, ...rest } = event;
  return rest as GatewayEvent;
}
