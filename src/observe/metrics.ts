/**
 * Prometheus metrics: request outcomes and latencies from the exchange observer, transitions from the
 * event bus, and live pool and guard state read from the gateway at scrape time. Everything lives in
 * one registry of our own (never prom-client's global one), so two gateways in one process, or a
 * test, never share counters.
 *
 * Label values are bounded by the configuration: route labels, upstream names and configured server
 * addresses, error types and causes from the taxonomy. Never a path, Host or client address.
 */
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import type { Failure } from '../diagnose/index.js';
import type { CompiledRoute, Exchange, ExchangeObserver, Gateway } from '../proxy/index.js';
import type { EventBus, Stamped } from './events.js';
import { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from './metrics/cells.js';
import { type GaugeSet, registerGauges } from './metrics/gauges.js';

/** Request latency buckets in seconds: a proxy answers in about a millisecond and times out near 30 s. */
export const REQUEST_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Connect and time-to-first-byte buckets: a loopback or LAN connect takes tens of microseconds. */
export const UPSTREAM_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * Status classes, as Prometheus' own HTTP instrumentation labels them (`2xx`, `5xx`): one series per
 * class, not per code, keeps cardinality fixed. A client that went away before the answer (logged
 * as 499, an nginx convention, not an HTTP status) is no response class: it is counted in
 * `gatewise_client_aborts_total`, so that it neither inflates nor hides the 4xx/5xx ratios.
 */
const CODE_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const CLIENT_CLOSED = 499;

type RouteLabels = 'route' | 'upstream';

/** The cells of one route (and its upstream), resolved on its first request. */
interface RouteCells {
  readonly route: string;
  readonly upstream: string;
  /** By status class index; a class's cell is made when the class first occurs. */
  readonly requests: (CounterCell | undefined)[];
  readonly duration: HistogramCell<RouteLabels>;
  readonly aborts: CounterCell<'route'>;
}

interface UpstreamCells {
  readonly queueWait: HistogramCell<'upstream'>;
  readonly connect: HistogramCell<'upstream'>;
  readonly head: HistogramCell<'upstream'>;
  readonly retries: CounterCell<'upstream'>;
}

/** A histogram's observations so far: per bucket of `bounds` (seconds), plus those above the last. */
export interface HistogramTotals {
  readonly bounds: readonly number[];
  /** One count per bound (not cumulative), then one for values above the last bound. */
  readonly counts: number[];
  count: number;
}

/** Everything counted for one upstream since start: what alert rules take differences of. */
export interface UpstreamTotals {
  /** Answered requests (client aborts excluded), and those by status class (`5xx`...). */
  requests: number;
  readonly byClass: Record<string, number>;
  /** Failed upstream tries by `error_type` and by `cause`. */
  readonly byErrorType: Record<string, number>;
  readonly byCause: Record<string, number>;
  /** Time to the upstream response head, and whole-request duration. */
  readonly head: HistogramTotals;
  readonly total: HistogramTotals;
}

export interface MetricsOptions {
  /** Collect prom-client's process metrics (CPU, memory, event loop lag, handles). Default true. */
  processMetrics?: boolean;
  /** Which live-state gauges this process has (see GaugeSet); default all. */
  gauges?: GaugeSet | undefined;
}

function emptyHistogram(bounds: readonly number[]): HistogramTotals {
  return { bounds, counts: new Array<number>(bounds.length + 1).fill(0), count: 0 };
}

/** The totals of `upstream` in `map`, made empty when missing. */
function totalsOf(map: Map<string, UpstreamTotals>, upstream: string): UpstreamTotals {
  let totals = map.get(upstream);
  if (totals === undefined) {
    totals = {
      requests: 0,
      byClass: {},
      byErrorType: {},
      byCause: {},
      head: emptyHistogram(UPSTREAM_BUCKETS_SECONDS),
      total: emptyHistogram(REQUEST_BUCKETS_SECONDS),
    };
    map.set(upstream, totals);
  }
  return totals;
}

/** Adds `from` into `into` (the totals of several processes of one node, summed). */
export function addTotals(into: Map<string, UpstreamTotals>, from: ReadonlyMap<string, UpstreamTotals>): void {
  for (const [upstream, t] of from) {
    const sum = totalsOf(into, upstream);
    sum.requests += t.requests;
    for (const [into_, from_] of [
      [sum.byClass, t.byClass],
      [sum.byErrorType, t.byErrorType],
      [sum.byCause, t.byCause],
    ] as const)
      for (const [k, v] of Object.entries(from_)) into_[k] = (into_[k] ?? 0) + v;
    for (const [h, f] of [
      [sum.head, t.head],
      [sum.total, t.total],
    ] as const) {
      for (let i = 0; i < h.counts.length; i++) h.counts[i]! += f.counts[i] ?? 0;
      h.count += f.count;
    }
  }
}

function addHistogram(into: HistogramTotals, cell: HistogramCell): void {
  let finite = 0;
  for (let i = 0; i < cell.counts.length; i++) {
    into.counts[i]! += cell.counts[i]!;
    finite += cell.counts[i]!;
  }
  into.counts[into.bounds.length]! += cell.count - finite;
  into.count += cell.count;
}

/**
 * The gateway's Prometheus metrics. Pass it as the gateway's `observer` (or call it from the one in
 * use), `attach()` it to the event bus, give it the gateway with `collectFrom()`, and serve
 * `render()` with `contentType` on the admin listener.
 */
export class Metrics implements ExchangeObserver {
  readonly register = new Registry();
  readonly contentType: string = this.register.contentType;

  private readonly requests: CellCounter<RouteLabels | 'code_class'>;
  private readonly aborts: CellCounter<'route'>;
  private readonly duration: CellHistogram<RouteLabels>;
  private readonly queueWait: CellHistogram<'upstream'>;
  private readonly connect: CellHistogram<'upstream'>;
  private readonly head: CellHistogram<'upstream'>;
  private readonly failures: CellCounter<'upstream' | 'error_type' | 'cause'>;
  private readonly retries: CellCounter<'upstream'>;
  private readonly ejections: Counter<'upstream'>;
  private readonly breakerTransitions: Counter<'upstream' | 'to'>;
  private readonly healthTransitions: Counter<'upstream' | 'to'>;
  private readonly dnsFailures: Counter<'upstream'>;
  private readonly reloads: Counter<'result'>;

  /** Compiled routes are new objects after a reload; the same label and upstream share cells. */
  private readonly byRoute = new WeakMap<CompiledRoute, RouteCells>();
  private readonly byRouteKey = new Map<string, RouteCells>();
  private readonly byUpstream = new Map<string, UpstreamCells>();
  private readonly byFailure = new Map<string, CounterCell>();
  private source: (() => Gateway) | null = null;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.register];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.register, prefix: 'gatewise_' });
    this.requests = new CellCounter({
      name: 'gatewise_requests_total',
      help: 'Requests answered, by route, upstream and status class (client aborts are counted apart).',
      labelNames: ['route', 'upstream', 'code_class'],
      registers,
    });
    this.aborts = new CellCounter({
      name: 'gatewise_client_aborts_total',
      help: 'Requests whose client went away before the response was complete (logged as 499).',
      labelNames: ['route'],
      registers,
    });
    this.duration = new CellHistogram({
      name: 'gatewise_request_duration_seconds',
      help: 'Time from the request head to the end of the response, for answered requests.',
      labelNames: ['route', 'upstream'],
      buckets: [...REQUEST_BUCKETS_SECONDS],
      registers,
    });
    this.queueWait = new CellHistogram({
      name: 'gatewise_upstream_queue_wait_seconds',
      help: 'Time requests waited in the admission queue (limits.queue), admitted or shed at the end.',
      labelNames: ['upstream'],
      buckets: [...REQUEST_BUCKETS_SECONDS],
      registers,
    });
    this.connect = new CellHistogram({
      name: 'gatewise_upstream_connect_duration_seconds',
      help: 'Time to open a new upstream connection (TCP, and TLS when used); reused connections are not counted.',
      labelNames: ['upstream'],
      buckets: [...UPSTREAM_BUCKETS_SECONDS],
      registers,
    });
    this.head = new CellHistogram({
      name: 'gatewise_upstream_response_head_duration_seconds',
      help: 'Time from the request head to the upstream response head (time to first byte).',
      labelNames: ['upstream'],
      buckets: [...UPSTREAM_BUCKETS_SECONDS],
      registers,
    });
    this.failures = new CellCounter({
      name: 'gatewise_upstream_failures_total',
      help: 'Failures by RFC 9209 error type and root cause: each failed upstream try (retried or not), and each request the gateway answered with an error itself (no server available, load shed).',
      labelNames: ['upstream', 'error_type', 'cause'],
      registers,
    });
    this.retries = new CellCounter({
      name: 'gatewise_retries_total',
      help: 'Upstream tries beyond the first of each request.',
      labelNames: ['upstream'],
      registers,
    });
    this.ejections = new Counter({
      name: 'gatewise_server_ejections_total',
      help: 'Servers ejected by passive health (outlier detection).',
      labelNames: ['upstream'],
      registers,
    });
    this.breakerTransitions = new Counter({
      name: 'gatewise_breaker_transitions_total',
      help: 'Circuit breaker state changes, by the state entered.',
      labelNames: ['upstream', 'to'],
      registers,
    });
    this.healthTransitions = new Counter({
      name: 'gatewise_health_transitions_total',
      help: 'Active health check state changes, by the state entered.',
      labelNames: ['upstream', 'to'],
      registers,
    });
    this.dnsFailures = new Counter({
      name: 'gatewise_dns_failures_total',
      help: 'Failed re-resolutions of upstream host names (the last good addresses are kept).',
      labelNames: ['upstream'],
      registers,
    });
    this.reloads = new Counter({
      name: 'gatewise_config_reloads_total',
      help: 'Configuration reloads, applied (ok) or refused because the new config was invalid.',
      labelNames: ['result'],
      registers,
    });
    // Both series exist from the start, so `increase()` and alerts see the first refusal.
    this.reloads.inc({ result: 'ok' }, 0);
    this.reloads.inc({ result: 'refused' }, 0);
    registerGauges(this.register, () => this.source?.() ?? null, options.gauges);
  }

  // --- request path: a lookup and field increments; labels are worked out only at scrape time ---

  upstreamFailed(ex: Exchange, failure: Failure): void {
    this.countFailure(failure);
    if (failure.upstream === '') return;
    const up = this.upstreamCells(failure.upstream);
    if (failure.connectMs >= 0 && !ex.reused) up.connect.observe(failure.connectMs / 1000);
    if (failure.headMs >= 0) up.head.observe(failure.headMs / 1000);
  }

  exchangeDone(ex: Exchange): void {
    // A failure the gateway answered without an upstream try (no server available, load shed) was
    // not reported by upstreamFailed: it is counted here, once.
    if (ex.failure !== null && ex.failure !== ex.observedFailure) this.countFailure(ex.failure);
    const cells = this.routeCells(ex);
    const status = ex.status;
    if (status === CLIENT_CLOSED) cells.aborts.count++;
    else {
      const index = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
      const cell = cells.requests[index] ?? this.requestCell(cells, index);
      cell.count++;
      cells.duration.observe((performance.now() - ex.startedAt) / 1000);
    }
    if (ex.upstream === null) return;
    const up = this.upstreamCells(ex.upstream.name);
    if (ex.attempt > 1) up.retries.count += ex.attempt - 1;
    if (ex.queueWaitMs >= 0) up.queueWait.observe(ex.queueWaitMs / 1000);
    // A failed last try was observed in upstreamFailed already. A reused keep-alive connection
    // reports 0 ms: no connect happened, so none is observed.
    if (ex.failure === null) {
      if (ex.connectMs >= 0 && !ex.reused) up.connect.observe(ex.connectMs / 1000);
      if (ex.headMs >= 0) up.head.observe(ex.headMs / 1000);
    }
  }

  private countFailure(failure: Failure): void {
    const key = `${failure.upstream}\0${failure.type}\0${failure.cause}`;
    let cell = this.byFailure.get(key);
    if (cell === undefined) {
      cell = this.failures.cell({ upstream: failure.upstream, error_type: failure.type, cause: failure.cause });
      this.byFailure.set(key, cell);
    }
    cell.count++;
  }

  private routeCells(ex: Exchange): RouteCells {
    const route = ex.route;
    if (route === null) return this.cellsFor('', ex.upstream?.name ?? '');
    let cells = this.byRoute.get(route);
    if (cells === undefined) {
      // Labelled with the route's upstream even when the request was refused before reaching it.
      cells = this.cellsFor(route.label, route.upstream.name);
      this.byRoute.set(route, cells);
    }
    return cells;
  }

  private cellsFor(route: string, upstream: string): RouteCells {
    const key = `${route}\0${upstream}`;
    let cells = this.byRouteKey.get(key);
    if (cells === undefined) {
      cells = {
        route,
        upstream,
        requests: new Array<CounterCell | undefined>(CODE_CLASSES.length).fill(undefined),
        duration: this.duration.cell({ route, upstream }),
        aborts: this.aborts.cell({ route }),
      };
      this.byRouteKey.set(key, cells);
    }
    return cells;
  }

  private requestCell(cells: RouteCells, index: number): CounterCell {
    const cell = this.requests.cell({ route: cells.route, upstream: cells.upstream, code_class: CODE_CLASSES[index]! });
    cells.requests[index] = cell;
    return cell;
  }

  private upstreamCells(upstream: string): UpstreamCells {
    let cells = this.byUpstream.get(upstream);
    if (cells === undefined) {
      cells = {
        queueWait: this.queueWait.cell({ upstream }),
        connect: this.connect.cell({ upstream }),
        head: this.head.cell({ upstream }),
        retries: this.retries.cell({ upstream }),
      };
      this.byUpstream.set(upstream, cells);
    }
    return cells;
  }

  /**
   * Every counter and histogram summed per upstream (over routes and causes), read off the hot path
   * by the alert rules. Requests answered without an upstream (no route) are left out.
   */
  totals(): Map<string, UpstreamTotals> {
    const out = new Map<string, UpstreamTotals>();
    const of = (upstream: string): UpstreamTotals => totalsOf(out, upstream);
    for (const cells of this.byRouteKey.values()) {
      if (cells.upstream === '') continue;
      const totals = of(cells.upstream);
      cells.requests.forEach((cell, index) => {
        if (cell === undefined) return;
        const name = CODE_CLASSES[index]!;
        totals.byClass[name] = (totals.byClass[name] ?? 0) + cell.count;
        totals.requests += cell.count;
      });
      addHistogram(totals.total, cells.duration);
    }
    for (const { upstream, type, cause, count } of this.failureCounts()) {
      if (upstream === '') continue;
      const totals = of(upstream);
      totals.byErrorType[type] = (totals.byErrorType[type] ?? 0) + count;
      totals.byCause[cause] = (totals.byCause[cause] ?? 0) + count;
    }
    for (const [upstream, cells] of this.byUpstream) addHistogram(of(upstream).head, cells.head);
    return out;
  }

  /** Failed tries so far by upstream, error type and cause (the cells of gatewise_upstream_failures_total). */
  failureCounts(): Array<{ upstream: string; type: string; cause: string; count: number }> {
    return [...this.byFailure.values()].map((cell) => {
      const labels = cell.labels as Record<'upstream' | 'error_type' | 'cause', string>;
      return { upstream: labels.upstream, type: labels.error_type, cause: labels.cause, count: cell.count };
    });
  }

  // --- transitions ---

  /** Counts transitions from the gateway's event bus; returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    return bus.on((event) => this.onEvent(event));
  }

  private onEvent(event: Stamped): void {
    switch (event.kind) {
      case 'ejected':
        this.ejections.inc({ upstream: event.upstream });
        break;
      case 'breaker':
        this.breakerTransitions.inc({ upstream: event.upstream, to: event.to });
        break;
      case 'health':
        this.healthTransitions.inc({ upstream: event.upstream, to: event.to });
        break;
      case 'dns':
        if (event.error !== undefined) this.dnsFailures.inc({ upstream: event.upstream });
        break;
      default:
        break;
    }
  }

  recordReload(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'refused' });
  }

  // --- live state, read at scrape time ---

  /** Gauges read the gateway's current runtime at each scrape (so a reload is followed). */
  collectFrom(getGateway: () => Gateway): void {
    this.source = getGateway;
  }

  /** The exposition text for `GET /metrics` (send with `contentType`). */
  render(): Promise<string> {
    return this.register.metrics();
  }
}
