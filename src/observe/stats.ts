/**
 * Rolling per-server statistics for `gatewise status` and the dashboard: requests, errors and latency
 * quantiles over the last minute, per (upstream, server), and a per-upstream series of requests and
 * failures by root cause over the last five minutes.
 *
 * Everything lives in fixed typed arrays indexed by time bucket; a bucket is cleared when the clock
 * comes back round to it. Recording a request is a few array writes: no allocation per request
 * (PERF-NOTES rule 6). Quantiles come from a log-scale histogram per bucket, merged on read.
 */
import { type Failure, ROOT_CAUSES, type RootCause } from '../diagnose/index.js';
import type { Exchange, ExchangeObserver } from '../proxy/index.js';

/** Width of one time bucket. */
export const STATS_BUCKET_MS = 5000;
/** Buckets in the per-server window: 12 × 5 s = one minute. */
const WINDOW_BUCKETS = 12;
/** Buckets in the per-upstream series: 60 × 5 s = five minutes. */
const SERIES_BUCKETS = 60;

/**
 * Latency histogram: bucket i holds latencies up to FIRST_BOUND_MS · 2^(i/4) ms, so a quantile read
 * as the bucket's geometric middle is within about 9 % of the truth. 80 buckets reach about 105 s;
 * the last one also takes everything slower.
 */
const HIST_BUCKETS = 80;
const FIRST_BOUND_MS = 0.1;
const STEPS_PER_DOUBLING = 4;

const CAUSES = Object.keys(ROOT_CAUSES) as RootCause[];
const CAUSE_INDEX = new Map<string, number>(CAUSES.map((c, i) => [c, i]));

function histogramIndex(ms: number): number {
  if (!(ms > FIRST_BOUND_MS)) return 0;
  const i = Math.ceil(STEPS_PER_DOUBLING * Math.log2(ms / FIRST_BOUND_MS));
  return i >= HIST_BUCKETS ? HIST_BUCKETS - 1 : i;
}

function upperBoundMs(index: number): number {
  return FIRST_BOUND_MS * 2 ** (index / STEPS_PER_DOUBLING);
}

/** The value reported for a quantile falling in `index`: the geometric middle of its bounds. */
function representativeMs(index: number): number {
  if (index === 0) return FIRST_BOUND_MS;
  return Math.sqrt(upperBoundMs(index - 1) * upperBoundMs(index));
}

/** One server's last minute. */
class ServerWindow {
  readonly bucketIds = new Float64Array(WINDOW_BUCKETS).fill(-1);
  readonly requests = new Uint32Array(WINDOW_BUCKETS);
  readonly errors = new Uint32Array(WINDOW_BUCKETS);
  readonly latency = new Uint32Array(WINDOW_BUCKETS * HIST_BUCKETS);

  constructor(
    readonly upstream: string,
    readonly server: string,
    readonly url: string,
  ) {}

  /** The slot for `bucketId`, cleared first when it still holds an older bucket. */
  slot(bucketId: number): number {
    const slot = bucketId % WINDOW_BUCKETS;
    if (this.bucketIds[slot] !== bucketId) {
      this.bucketIds[slot] = bucketId;
      this.requests[slot] = 0;
      this.errors[slot] = 0;
      this.latency.fill(0, slot * HIST_BUCKETS, (slot + 1) * HIST_BUCKETS);
    }
    return slot;
  }
}

/** One upstream's last five minutes, for a chart. */
class UpstreamSeriesWindow {
  readonly bucketIds = new Float64Array(SERIES_BUCKETS).fill(-1);
  readonly requests = new Uint32Array(SERIES_BUCKETS);
  readonly errors = new Uint32Array(SERIES_BUCKETS);
  readonly failures = new Uint32Array(SERIES_BUCKETS * CAUSES.length);

  slot(bucketId: number): number {
    const slot = bucketId % SERIES_BUCKETS;
    if (this.bucketIds[slot] !== bucketId) {
      this.bucketIds[slot] = bucketId;
      this.requests[slot] = 0;
      this.errors[slot] = 0;
      this.failures.fill(0, slot * CAUSES.length, (slot + 1) * CAUSES.length);
    }
    return slot;
  }
}

export interface ServerStatsSnapshot {
  upstream: string;
  /** `host:port` or the socket path, as in logs. */
  server: string;
  /** The server as configured (the `url` of `/api/status`). */
  url: string;
  requests_per_s: number;
  /** Errors / requests over the window; 0 without requests. */
  error_ratio: number;
  /** null when the window holds no completed request. */
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface SeriesPoint {
  /** Start of the bucket, ms since the epoch. */
  start_ms: number;
  requests: number;
  errors: number;
  /** Failed attempts (and gateway-answered failures) by root cause; causes with none are left out. */
  failures: Partial<Record<RootCause, number>>;
}

/** The raw windows of a `ServerStats`, to be merged with other processes' (`ServerStats.merged`). */
export interface ServerStatsDump {
  startedMs: number;
  servers: Array<{
    upstream: string;
    server: string;
    url: string;
    bucketIds: Float64Array;
    requests: Uint32Array;
    errors: Uint32Array;
    latency: Uint32Array;
  }>;
  series: Array<{
    upstream: string;
    bucketIds: Float64Array;
    requests: Uint32Array;
    errors: Uint32Array;
    failures: Uint32Array;
  }>;
}

export interface ServerStatsOptions {
  /** Time source in ms (tests inject one). Default Date.now. */
  now?: () => number;
}

/**
 * What counts, per server: every try that ended on it. A try that failed (`upstreamFailed`) is one
 * request and one error on that server, even when a retry elsewhere then succeeded, so a server that
 * retries hide still shows its errors. A completed exchange counts one request on its last server,
 * an error when the response status is >= 500 or the gateway answered with a failure, and its total
 * duration as latency. Exchanges answered without any server (no server available, load shed) count
 * only in the upstream series.
 */
export class ServerStats implements ExchangeObserver {
  private readonly now: () => number;
  private startedMs: number;
  private readonly servers = new Map<string, Map<string, ServerWindow>>();
  private readonly series = new Map<string, UpstreamSeriesWindow>();

  constructor(options: ServerStatsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
  }

  upstreamFailed(ex: Exchange, failure: Failure): void {
    const bucketId = Math.floor(this.now() / STATS_BUCKET_MS);
    const server = ex.server;
    const upstream = ex.upstream?.name ?? failure.upstream;
    if (server !== null) {
      const w = this.window(upstream, server.address, server.key);
      const slot = w.slot(bucketId);
      w.requests[slot]!++;
      w.errors[slot]!++;
    }
    this.countFailure(upstream, bucketId, failure);
  }

  exchangeDone(ex: Exchange): void {
    const upstream = ex.upstream;
    if (upstream === null) return;
    const bucketId = Math.floor(this.now() / STATS_BUCKET_MS);
    const failure = ex.failure;
    const alreadyCounted = failure !== null && failure === ex.observedFailure;
    const error = failure !== null || ex.status >= 500;
    const s = this.seriesOf(upstream.name);
    const seriesSlot = s.slot(bucketId);
    s.requests[seriesSlot]!++;
    if (error) s.errors[seriesSlot]!++;
    if (failure !== null && !alreadyCounted) this.countFailure(upstream.name, bucketId, failure);
    const server = ex.server;
    // A client abort (499) says nothing about the server.
    if (server === null || ex.status === 499) return;
    const w = this.window(upstream.name, server.address, server.key);
    const slot = w.slot(bucketId);
    if (!alreadyCounted) {
      w.requests[slot]!++;
      if (error) w.errors[slot]!++;
    }
    // A tunnel's (101) duration is the session's, not the server's latency.
    if (ex.status === 101) return;
    w.latency[slot * HIST_BUCKETS + histogramIndex(performance.now() - ex.startedAt)]!++;
  }

  /**
   * The last minute of every server seen in the last five minutes, in the order first seen; servers
   * quiet for longer (removed by a reload, say) are forgotten.
   */
  snapshot(nowMs: number = this.now()): ServerStatsSnapshot[] {
    const current = Math.floor(nowMs / STATS_BUCKET_MS);
    const oldest = current - WINDOW_BUCKETS + 1;
    // The window covers the full older buckets plus the elapsed part of the current one, and never
    // more than the time these statistics have existed.
    const spanMs = Math.max(
      1000,
      Math.min((WINDOW_BUCKETS - 1) * STATS_BUCKET_MS + (nowMs - current * STATS_BUCKET_MS), nowMs - this.startedMs),
    );
    const merged = new Uint32Array(HIST_BUCKETS);
    const out: ServerStatsSnapshot[] = [];
    const forgetBefore = current - SERIES_BUCKETS;
    for (const byServer of this.servers.values()) {
      for (const w of byServer.values()) {
        if (Math.max(...w.bucketIds) < forgetBefore) {
          byServer.delete(w.server);
          continue;
        }
        let requests = 0;
        let errors = 0;
        merged.fill(0);
        for (let slot = 0; slot < WINDOW_BUCKETS; slot++) {
          const id = w.bucketIds[slot]!;
          if (id < oldest || id > current) continue;
          requests += w.requests[slot]!;
          errors += w.errors[slot]!;
          const base = slot * HIST_BUCKETS;
          for (let i = 0; i < HIST_BUCKETS; i++) merged[i]! += w.latency[base + i]!;
        }
        out.push({
          upstream: w.upstream,
          server: w.server,
          url: w.url,
          requests_per_s: round((requests * 1000) / spanMs),
          error_ratio: requests === 0 ? 0 : round(errors / requests),
          p50_ms: quantile(merged, 0.5),
          p99_ms: quantile(merged, 0.99),
        });
      }
    }
    return out;
  }

  /** The windows as they are (copies), for another process to merge. */
  dump(): ServerStatsDump {
    const servers: ServerStatsDump['servers'] = [];
    for (const byServer of this.servers.values())
      for (const w of byServer.values())
        servers.push({
          upstream: w.upstream,
          server: w.server,
          url: w.url,
          bucketIds: w.bucketIds.slice(),
          requests: w.requests.slice(),
          errors: w.errors.slice(),
          latency: w.latency.slice(),
        });
    const series: ServerStatsDump['series'] = [];
    for (const [upstream, s] of this.series)
      series.push({
        upstream,
        bucketIds: s.bucketIds.slice(),
        requests: s.requests.slice(),
        errors: s.errors.slice(),
        failures: s.failures.slice(),
      });
    return { startedMs: this.startedMs, servers, series };
  }

  /**
   * The statistics of several processes as one (a node's workers): counts of the same server and
   * time bucket are added; a slot holding an older bucket in one dump than in another is left out.
   */
  static merged(dumps: readonly ServerStatsDump[], options: ServerStatsOptions = {}): ServerStats {
    const out = new ServerStats(options);
    out.startedMs = Math.min(out.startedMs, ...dumps.map((d) => d.startedMs));
    for (const dump of dumps) {
      for (const d of dump.servers) {
        const w = out.window(d.upstream, d.server, d.url);
        for (let slot = 0; slot < WINDOW_BUCKETS; slot++) {
          const id = d.bucketIds[slot]!;
          if (id < 0 || id < w.bucketIds[slot]!) continue;
          w.slot(id);
          w.requests[slot]! += d.requests[slot]!;
          w.errors[slot]! += d.errors[slot]!;
          for (let i = slot * HIST_BUCKETS; i < (slot + 1) * HIST_BUCKETS; i++) w.latency[i]! += d.latency[i]!;
        }
      }
      for (const d of dump.series) {
        const s = out.seriesOf(d.upstream);
        for (let slot = 0; slot < SERIES_BUCKETS; slot++) {
          const id = d.bucketIds[slot]!;
          if (id < 0 || id < s.bucketIds[slot]!) continue;
          s.slot(id);
          s.requests[slot]! += d.requests[slot]!;
          s.errors[slot]! += d.errors[slot]!;
          const base = slot * CAUSES.length;
          for (let c = 0; c < CAUSES.length; c++) s.failures[base + c]! += d.failures[base + c]!;
        }
      }
    }
    return out;
  }

  /** Per 5 s bucket over the last five minutes, oldest first; empty buckets included. */
  upstreamSeries(upstream: string, nowMs: number = this.now()): SeriesPoint[] {
    const current = Math.floor(nowMs / STATS_BUCKET_MS);
    const s = this.series.get(upstream);
    const out: SeriesPoint[] = [];
    for (let id = current - SERIES_BUCKETS + 1; id <= current; id++) {
      const point: SeriesPoint = { start_ms: id * STATS_BUCKET_MS, requests: 0, errors: 0, failures: {} };
      const slot = id % SERIES_BUCKETS;
      if (s !== undefined && s.bucketIds[slot] === id) {
        point.requests = s.requests[slot]!;
        point.errors = s.errors[slot]!;
        const base = slot * CAUSES.length;
        for (let c = 0; c < CAUSES.length; c++) {
          const n = s.failures[base + c]!;
          if (n > 0) point.failures[CAUSES[c]!] = n;
        }
      }
      out.push(point);
    }
    return out;
  }

  private countFailure(upstream: string, bucketId: number, failure: Failure): void {
    const s = this.seriesOf(upstream);
    const slot = s.slot(bucketId);
    const cause = CAUSE_INDEX.get(failure.cause) ?? CAUSE_INDEX.get('other')!;
    s.failures[slot * CAUSES.length + cause]!++;
  }

  private window(upstream: string, address: string, url: string): ServerWindow {
    let byServer = this.servers.get(upstream);
    if (byServer === undefined) {
      byServer = new Map();
      this.servers.set(upstream, byServer);
    }
    let w = byServer.get(address);
    if (w === undefined) {
      w = new ServerWindow(upstream, address, url);
      byServer.set(address, w);
    }
    return w;
  }

  private seriesOf(upstream: string): UpstreamSeriesWindow {
    let s = this.series.get(upstream);
    if (s === undefined) {
      s = new UpstreamSeriesWindow();
      this.series.set(upstream, s);
    }
    return s;
  }
}

/** The q-quantile of a histogram (nearest rank), or null when it is empty. */
function quantile(histogram: Uint32Array, q: number): number | null {
  let total = 0;
  for (let i = 0; i < HIST_BUCKETS; i++) total += histogram[i]!;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < HIST_BUCKETS; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return round(representativeMs(i));
  }
  return round(representativeMs(HIST_BUCKETS - 1));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
