/**
 * Prometheus metrics: request outcomes and latencies from the exchange observer, transitions from the
 * event bus, and live pool and guard state read from the gateway at scrape time. Everything lives in
 * one registry of our own (never prom-client's global one), so two gateways in one process, or a
 * test, never share counters.
 *
 * Label values are bounded by the configuration: route labels, upstream names and configured server
 * addresses, error types and causes from the taxonomy. Never a path, Host or client address.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Failure } from '../diagnose/index.js';
import type { Exchange, ExchangeObserver, Gateway } from '../proxy/index.js';
import type { EventBus, Stamped } from './events.js';

/** Request latency buckets in seconds: a proxy answers in about a millisecond and times out near 30 s. */
export const REQUEST_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** Connect and time-to-first-byte buckets: loopback connects take tens of microseconds. */
export const UPSTREAM_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/**
 * Status classes as the `code` label convention of Prometheus' own instrumentation (`2xx`, `5xx`).
 * A client that went away before the answer (logged as 499, an nginx convention rather than HTTP)
 * is not a response class: it is counted in `gatewise_client_aborts_total` instead.
 */
const CODE_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const CLIENT_CLOSED = 499;

interface CounterChild {
  inc(value?: number): void;
}
interface HistogramChild {
  observe(value: number): void;
}

/** Children for one route and upstream, resolved once: prom-client's `labels()` hashes on every call. */
interface RouteChildren {
  readonly route: string;
  readonly upstream: string;
  readonly requests: (CounterChild | undefined)[];
  readonly duration: HistogramChild;
  readonly aborts: CounterChild;
}

interface UpstreamChildren {
  readonly connect: HistogramChild;
  readonly head: HistogramChild;
  readonly retries: CounterChild;
}

export interface MetricsOptions {
  /** Collect prom-client's process metrics (CPU, memory, event loop lag, handles). Default true. */
  processMetrics?: boolean;
}

export class Metrics implements ExchangeObserver {
  readonly register = new Registry();
  readonly contentType: string = this.register.contentType;

  private readonly requests: Counter<'route' | 'upstream' | 'code_class'>;
  private readonly aborts: Counter<'route'>;
  private readonly duration: Histogram<'route' | 'upstream'>;
  private readonly connect: Histogram<'upstream'>;
  private readonly head: Histogram<'upstream'>;
  private readonly failures: Counter<'upstream' | 'error_type' | 'cause'>;
  private readonly retries: Counter<'upstream'>;
  private readonly ejections: Counter<'upstream'>;
  private readonly breakerTransitions: Counter<'upstream' | 'to'>;
  private readonly healthTransitions: Counter<'upstream' | 'to'>;
  private readonly dnsFailures: Counter<'upstream'>;
  private readonly reloads: Counter<'result'>;

  private readonly byRouteName = new Map<string, Map<string, RouteChildren>>();
  private readonly byUpstream = new Map<string, UpstreamChildren>();
  private readonly byFailure = new Map<string, CounterChild>();
  private source: (() => Gateway) | null = null;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.register];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.register, prefix: 'gatewise_' });
    this.requests = new Counter({
      name: 'gatewise_requests_total',
      help: 'Requests answered, by route, upstream and status class (client aborts are counted apart).',
      labelNames: ['route', 'upstream', 'code_class'],
      registers,
    });
    this.aborts = new Counter({
      name: 'gatewise_client_aborts_total',
      help: 'Requests whose client went away before the response was complete (logged as 499).',
      labelNames: ['route'],
      registers,
    });
    this.duration = new Histogram({
      name: 'gatewise_request_duration_seconds',
      help: 'Time from the request head to the last byte of the response, for answered requests.',
      labelNames: ['route', 'upstream'],
      buckets: [...REQUEST_BUCKETS_SECONDS],
      registers,
    });
    this.connect = new Histogram({
      name: 'gatewise_upstream_connect_duration_seconds',
      help: 'Time to open a new upstream connection (TCP, and TLS when used).',
      labelNames: ['upstream'],
      buckets: [...UPSTREAM_BUCKETS_SECONDS],
      registers,
    });
    this.head = new Histogram({
      name: 'gatewise_upstream_response_head_duration_seconds',
      help: 'Time from the request head to the upstream response head (time to first byte).',
      labelNames: ['upstream'],
      buckets: [...UPSTREAM_BUCKETS_SECONDS],
      registers,
    });
    this.failures = new Counter({
      name: 'gatewise_upstream_failures_total',
      help: 'Failed upstream tries, by RFC 9209 error type and root cause (one per try, retried or not).',
      labelNames: ['upstream', 'error_type', 'cause'],
      registers,
    });
    this.retries = new Counter({
      name: 'gatewise_retries_total',
      help: 'Extra upstream tries beyond the first, per request.',
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
    this.reloads.inc({ result: 'ok' }, 0);
    this.reloads.inc({ result: 'refused' }, 0);
    this.defineGauges(registers);
  }

  // --- request path: no labels() call, no allocation once a route has been seen ---

  upstreamFailed(ex: Exchange, failure: Failure): void {
    const key = `${failure.upstream}\0${failure.type}\0${failure.cause}`;
    let child = this.byFailure.get(key);
    if (child === undefined) {
      child = this.failures.labels(failure.upstream, failure.type, failure.cause);
      this.byFailure.set(key, child);
    }
    child.inc();
    if (failure.upstream !== '') {
      const up = this.upstreamChildren(failure.upstream);
      if (failure.connectMs >= 0 && !ex.reused) up.connect.observe(failure.connectMs / 1000);
      if (failure.headMs >= 0) up.head.observe(failure.headMs / 1000);
    }
  }

  exchangeDone(ex: Exchange): void {
    const routeChildren = this.routeChildren(ex.route?.label ?? '', ex.upstream?.name ?? '');
    const status = ex.status;
    if (status === CLIENT_CLOSED) routeChildren.aborts.inc();
    else {
      const index = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
      let child = routeChildren.requests[index];
      if (child === undefined) {
        child = this.requests.labels(routeChildren.route, routeChildren.upstream, CODE_CLASSES[index]!);
        routeChildren.requests[index] = child;
      }
      child.inc();
      routeChildren.duration.observe((performance.now() - ex.startedAt) / 1000);
    }
    if (ex.upstream === null) return;
    const up = this.upstreamChildren(ex.upstream.name);
    if (ex.attempt > 1) up.retries.inc(ex.attempt - 1);
    // A failed last try was observed in upstreamFailed already.
    // A reused keep-alive connection reports 0 ms: no connect happened, so none is observed.
    if (ex.failure === null) {
      if (ex.connectMs >= 0 && !ex.reused) up.connect.observe(ex.connectMs / 1000);
      if (ex.headMs >= 0) up.head.observe(ex.headMs / 1000);
    }
  }

  private routeChildren(route: string, upstream: string): RouteChildren {
    let byUpstream = this.byRouteName.get(route);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      this.byRouteName.set(route, byUpstream);
    }
    let children = byUpstream.get(upstream);
    if (children === undefined) {
      children = {
        route,
        upstream,
        requests: new Array<CounterChild | undefined>(CODE_CLASSES.length).fill(undefined),
        duration: this.duration.labels(route, upstream),
        aborts: this.aborts.labels(route),
      };
      byUpstream.set(upstream, children);
    }
    return children;
  }

  private upstreamChildren(upstream: string): UpstreamChildren {
    let children = this.byUpstream.get(upstream);
    if (children === undefined) {
      children = {
        connect: this.connect.labels(upstream),
        head: this.head.labels(upstream),
        retries: this.retries.labels(upstream),
      };
      this.byUpstream.set(upstream, children);
    }
    return children;
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

  private defineGauges(registers: Registry[]): void {
    const metrics = this;
    const perUpstream = (name: string, help: string, read: (g: Gateway, upstream: string) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['upstream'],
        registers,
        collect() {
          this.reset();
          const gateway = metrics.source?.();
          if (!gateway) return;
          for (const upstream of gateway.runtime.upstreams.keys()) {
            const value = read(gateway, upstream);
            if (value !== null) this.set({ upstream }, value);
          }
        },
      });
    perUpstream('gatewise_upstream_inflight', 'Requests admitted to the upstream and not yet finished.', (g, name) => {
      const guard = g.runtime.guards.get(name);
      if (guard) return guard.queue.inflight;
      let sum = 0;
      for (const s of g.runtime.upstreams.get(name)!.servers) sum += s.inflight;
      return sum;
    });
    perUpstream(
      'gatewise_upstream_queue_depth',
      'Requests waiting for an admission slot.',
      (g, name) => g.runtime.guards.get(name)?.queue.length ?? null,
    );
    perUpstream('gatewise_upstream_panic', '1 while the panic threshold routes to every server.', (g, name) => {
      const guard = g.runtime.guards.get(name);
      return guard ? (guard.panic ? 1 : 0) : null;
    });

    type ServerRead = (g: Gateway, upstream: string, index: number) => number | null;
    const perServer = (name: string, help: string, read: ServerRead) =>
      new Gauge({
        name,
        help,
        labelNames: ['upstream', 'server'],
        registers,
        collect() {
          this.reset();
          const gateway = metrics.source?.();
          if (!gateway) return;
          for (const [upstream, u] of gateway.runtime.upstreams) {
            for (const s of u.servers) {
              const value = read(gateway, upstream, s.index);
              if (value !== null) this.set({ upstream, server: s.address }, value);
            }
          }
        },
      });
    perServer('gatewise_server_available', '1 when balancers may pick the server, 0 when not.', (g, up, i) =>
      g.runtime.upstreams.get(up)!.servers[i]!.available ? 1 : 0,
    );
    perServer('gatewise_server_healthy', '1 when active health checks pass (or none are configured).', (g, up, i) => {
      const guard = g.runtime.guards.get(up)?.servers[i];
      return guard ? (guard.healthy ? 1 : 0) : null;
    });
    perServer('gatewise_server_breaker_open', '1 while the server circuit breaker is open.', (g, up, i) => {
      const breaker = g.runtime.guards.get(up)?.servers[i]?.breaker;
      return breaker ? (breaker.state === 'open' ? 1 : 0) : null;
    });
    new Gauge({
      name: 'gatewise_server_connections',
      help: 'Open upstream connections, idle in the keep-alive pool or busy with a request.',
      labelNames: ['upstream', 'server', 'state'],
      registers,
      collect() {
        this.reset();
        const gateway = metrics.source?.();
        if (!gateway) return;
        for (const [upstream, u] of gateway.runtime.upstreams) {
          for (const s of u.servers) {
            const idle = s.idle.length;
            this.set({ upstream, server: s.address, state: 'idle' }, idle);
            this.set({ upstream, server: s.address, state: 'busy' }, Math.max(0, s.open - idle));
          }
        }
      },
    });
  }

  /** The exposition text for `GET /metrics` (send with `contentType`). */
  render(): Promise<string> {
    return this.register.metrics();
  }
}
