/**
 * The primary's side of `serve --workers`: forks the workers, gives them the configuration and the
 * state decided once per node, replaces a worker that dies, and gathers what they count.
 *
 * What a worker counted survives it: its last report's counters, histograms and totals are kept and
 * added to the live workers' (at most one report interval of a crashed worker is lost; a worker
 * that stops in order sends a last report). So `/metrics` counters and alert rates never go
 * backwards when a worker is replaced.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../../config/index.js';
import type { EventBus } from '../../observe/index.js';
import type { LiveUpstream } from '../../observe/live.js';
import { addTotals, type UpstreamTotals } from '../../observe/metrics.js';
import type { RecentFailures } from '../../observe/recent-failures.js';
import { ServerStats, type ServerStatsDump } from '../../observe/stats.js';
import type { FollowedStates, FromWorker, Metrics, ToWorker, WorkerReport } from './protocol.js';

export interface WorkerPoolOptions {
  count: number;
  logFormat?: string | undefined;
  logger: Logger;
  /** Where the workers' own transitions (ejections, breakers) are emitted, once per node. */
  events: EventBus;
  /** Where the workers' failure records go (the admin API reads them there). */
  failures: RecentFailures;
  /** The state the primary decides for every server now. */
  state: () => FollowedStates;
  /**
   * Takes up to `want` tokens of a route's rate limit for `key` (the node's budget); `seq` is the
   * configuration the worker's route belongs to. Returns [granted, ms until a token].
   */
  lease: (seq: number, route: number, key: string, want: number) => [number, number];
}

/** How long a worker may take to apply a configuration before the primary stops waiting. */
const APPLY_TIMEOUT_MS = 10_000;
/** How long the primary waits for a worker's metrics on a scrape. */
const METRICS_TIMEOUT_MS = 2000;
/** Replacement back-off: doubles per exit in the last minute, up to this. */
const MAX_RESPAWN_DELAY_MS = 30_000;

interface Member {
  readonly worker: ClusterWorker;
  readonly pid: number;
  readonly startedAt: number;
  report: WorkerReport | undefined;
  ready: boolean;
  /** Forked by start(): a failure is start()'s to report, not a worker to replace. */
  readonly initial: boolean;
}

interface Waiter {
  resolve: (value: unknown) => void;
  members: Set<Member>;
  results: unknown[];
}

let primarySetUp = false;

export class WorkerPool {
  private readonly members = new Map<number, Member>();
  /** What the workers gone so far counted (their last reports). */
  private retiredCounters: Metrics = [];
  private retiring: Promise<void> = Promise.resolve();
  private readonly retiredTotals = new Map<string, UpstreamTotals>();
  private retiredStats: Array<{ at: number; dump: ServerStatsDump }> = [];
  private config: Config | undefined;
  private seq = 0;
  private stopping = false;
  private readonly exits: number[] = [];
  /** Replies the primary awaits, by message kind and sequence number. */
  private readonly waiting = new Map<string, Waiter>();
  private requestSeq = 0;
  restarts = 0;
  /** Where the workers listen (they share the listeners: the first one to listen says). */
  addresses: string[] = [];

  constructor(private readonly options: WorkerPoolOptions) {}

  /** The configuration's sequence number (rate-limit leases name it). */
  get configSeq(): number {
    return this.seq;
  }

  /** Forks the workers and waits until every one listens; rejects (stopping them) when one cannot. */
  async start(config: Config): Promise<void> {
    this.config = config;
    this.seq++;
    if (!primarySetUp) {
      // The kernel hands each connection to a worker waiting in accept, as with nginx's shared
      // listening socket; Node's default on Linux (the primary accepts and passes every connection
      // on) cost 13 % of throughput with one worker and 10-25 % with two here (bench small64).
      // NODE_CLUSTER_SCHED_POLICY=rr still chooses the primary's round robin.
      if (process.env['NODE_CLUSTER_SCHED_POLICY'] === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
      cluster.setupPrimary({
        exec: fileURLToPath(new URL('./main.js', import.meta.url)),
        serialization: 'advanced',
      });
      primarySetUp = true;
    }
    const started = await Promise.allSettled(Array.from({ length: this.options.count }, () => this.fork(true)));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      await this.stop(0);
      throw (failed as PromiseRejectedResult).reason;
    }
  }

  /** Starts one worker with the current configuration; resolves once it listens. */
  private fork(initial: boolean): Promise<void> {
    const worker = cluster.fork();
    const member: Member = {
      worker,
      pid: worker.process.pid ?? 0,
      startedAt: Date.now(),
      report: undefined,
      ready: false,
      initial,
    };
    this.members.set(worker.id, member);
    worker.on('message', (message: FromWorker) => this.onMessage(member, message));
    return new Promise<void>((resolve, reject) => {
      const seq = this.seq;
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`worker ${member.pid} exited before listening (${signal ?? `code ${code}`})`));
      worker.once('exit', onExit);
      worker.on('message', (message: FromWorker) => {
        if (message.t === 'hello') this.send(member, this.configMessage(seq));
        if (message.t !== 'applied' || message.seq !== seq || member.ready) return;
        worker.removeListener('exit', onExit);
        if (message.error !== undefined) {
          reject(new Error(message.error));
          return;
        }
        member.ready = true;
        // A configuration applied while this worker was starting: it gets the current one now.
        if (seq !== this.seq) this.send(member, this.configMessage(this.seq));
        resolve();
      });
      worker.once('exit', (code, signal) => this.onExit(member, code, signal));
    });
  }

  private configMessage(seq: number): ToWorker {
    return { t: 'config', seq, config: this.config!, state: this.options.state(), logFormat: this.options.logFormat };
  }

  private send(member: Member, message: ToWorker): void {
    if (member.worker.isConnected()) member.worker.send(message);
  }

  private onMessage(member: Member, message: FromWorker): void {
    switch (message.t) {
      case 'event':
        this.options.events.emit({ ...message.event, worker: member.pid } as unknown as typeof message.event);
        break;
      case 'failures':
        for (const record of message.records) this.options.failures.add(record);
        break;
      case 'report':
        member.report = message.report;
        break;
      case 'listening':
        this.addresses = message.addresses;
        break;
      case 'lease': {
        const [granted, waitMs] = this.options.lease(message.generation, message.route, message.key, message.want);
        this.send(member, { t: 'lease', seq: message.seq, granted, waitMs });
        break;
      }
      case 'applied':
        this.answer(`applied:${message.seq}`, member, message.error ?? null);
        break;
      case 'metrics':
        this.answer(`metrics:${message.seq}`, member, message.metrics);
        break;
      default:
        break;
    }
  }

  private onExit(member: Member, code: number | null, signal: string | null): void {
    this.members.delete(member.worker.id);
    this.retire(member);
    // Whoever waits for this worker's answer waits no longer.
    for (const key of this.waiting.keys()) this.answer(key, member, undefined);
    if (this.stopping || (member.initial && !member.ready)) return;
    const now = Date.now();
    this.exits.push(now);
    while (this.exits.length > 0 && this.exits[0]! < now - 60_000) this.exits.shift();
    const delayMs = Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** (this.exits.length - 1));
    this.options.logger.warn({
      msg: 'worker exited: replacing it',
      pid: member.pid,
      code,
      signal,
      restart_in_ms: delayMs,
    });
    const timer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.fork(false).then(
        () => this.options.logger.info({ msg: 'worker replaced', workers: this.members.size }),
        (error: unknown) => this.options.logger.error({ msg: 'worker could not start', error: String(error) }),
      );
    }, delayMs);
    timer.unref();
  }

  /** Keeps what a worker that is gone counted. */
  private retire(member: Member): void {
    const report = member.report;
    if (report === undefined) return;
    addTotals(this.retiredTotals, report.totals);
    this.retiredStats.push({ at: Date.now(), dump: report.stats });
    this.retiredStats = this.retiredStats.filter((r) => r.at > Date.now() - 5 * 60_000);
    // One at a time: two workers gone at once both count.
    this.retiring = this.retiring.then(async () => {
      const merged = AggregatorRegistry.aggregate([this.retiredCounters, report.counters]);
      this.retiredCounters = (await merged.getMetricsAsJSON()) as Metrics;
    });
  }

  /** Resolves with every live worker's answer to one request (undefined for a worker that went away). */
  private ask(kind: string, seq: number, message: ToWorker, timeoutMs: number): Promise<unknown[]> {
    // A worker still starting answers nothing yet; it is given the current configuration when ready.
    const members = new Set([...this.members.values()].filter((m) => m.ready && m.worker.isConnected()));
    if (members.size === 0) return Promise.resolve([]);
    const key = `${kind}:${seq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(waiter.results);
      }, timeoutMs);
      const waiter: Waiter = {
        members,
        results: [],
        resolve: (results) => {
          clearTimeout(timer);
          resolve(results as unknown[]);
        },
      };
      this.waiting.set(key, waiter);
      for (const member of members) this.send(member, message);
    });
  }

  private answer(key: string, member: Member, value: unknown): void {
    const waiter = this.waiting.get(key);
    if (waiter === undefined || !waiter.members.delete(member)) return;
    waiter.results.push(value);
    if (waiter.members.size === 0) {
      this.waiting.delete(key);
      waiter.resolve(waiter.results);
    }
  }

  /** Sends a new configuration to every worker; resolves with the errors of those that refused it. */
  async configure(config: Config): Promise<string[]> {
    this.config = config;
    const seq = ++this.seq;
    const message: ToWorker = {
      t: 'config',
      seq,
      config,
      state: this.options.state(),
      logFormat: this.options.logFormat,
    };
    const results = await this.ask('applied', seq, message, APPLY_TIMEOUT_MS);
    return results.filter((r): r is string => typeof r === 'string');
  }

  /** Sends the primary's server state to every worker. */
  follow(state: FollowedStates): void {
    for (const member of this.members.values()) if (member.ready) this.send(member, { t: 'state', state });
  }

  /** Every live worker's metrics now, and what the workers gone counted. */
  async metrics(): Promise<Metrics[]> {
    const seq = ++this.requestSeq;
    const results = await this.ask('metrics', seq, { t: 'metrics', seq }, METRICS_TIMEOUT_MS);
    const live = results.filter((r): r is Metrics => Array.isArray(r));
    return this.retiredCounters.length > 0 ? [...live, this.retiredCounters] : live;
  }

  /** The alert rules' totals: every worker's last report, and what the workers gone counted. */
  totals(): Map<string, UpstreamTotals> {
    const out = new Map<string, UpstreamTotals>();
    addTotals(out, this.retiredTotals);
    for (const member of this.members.values()) if (member.report) addTotals(out, member.report.totals);
    return out;
  }

  /** The workers' statistics merged (last minute per server, five minutes per upstream). */
  stats(): ServerStats {
    const dumps = [...this.members.values()].flatMap((m) => (m.report ? [m.report.stats] : []));
    return ServerStats.merged([...dumps, ...this.retiredStats.map((r) => r.dump)]);
  }

  /** Each live worker's request-path state, from its last report. */
  live(): Array<Record<string, LiveUpstream>> {
    return [...this.members.values()].flatMap((m) => (m.report ? [m.report.live] : []));
  }

  /** The workers, for status. */
  list(): Array<{
    pid: number;
    started_at: string;
    ready: boolean;
    connections: number | null;
    requests: number | null;
  }> {
    return [...this.members.values()].map((m) => ({
      pid: m.pid,
      started_at: new Date(m.startedAt).toISOString(),
      ready: m.ready,
      connections: m.report?.connections ?? null,
      requests: m.report ? [...m.report.totals.values()].reduce((n, t) => n + t.requests, 0) : null,
    }));
  }

  /** Client connections of every worker, from their last reports. */
  get connections(): number {
    let n = 0;
    for (const m of this.members.values()) n += m.report?.connections ?? 0;
    return n;
  }

  /** Graceful stop: each worker finishes its requests (up to `graceMs`), then exits; stragglers are killed. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const exits = [...this.members.values()].map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.worker.isDead()) return resolve();
          const kill = setTimeout(() => m.worker.process.kill('SIGKILL'), graceMs + 5000);
          m.worker.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          this.send(m, { t: 'stop', graceMs });
        }),
    );
    await Promise.all(exits);
  }
}
