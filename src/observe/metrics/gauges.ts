/**
 * Gauges of live state, read from the gateway's current runtime at scrape time: nothing on the request
 * path, and a reload is followed because the runtime is looked up on every scrape. Series of servers
 * that a reload removed disappear with them (each scrape starts from an empty gauge).
 */
import { type Aggregator, Gauge, type Registry } from 'prom-client';
import type { Gateway } from '../../proxy/index.js';

/** Where the gauges find the gateway; null until one is given (then the gauges carry no series). */
export type GatewaySource = () => Gateway | null;

type UpstreamRead = (gateway: Gateway, upstream: string) => number | null;
type ServerRead = (gateway: Gateway, upstream: string, index: number) => number | null;

/**
 * Which process a gauge describes when a node has workers (`serve --workers`): the primary decides
 * health; the request path's state (queues, connections, ejections, breakers) is in each worker,
 * summed over them (`aggregator`: counts add up, a state that any worker is in shows as 1, a server
 * is available only when every worker may pick it). A single process has both.
 */
export type GaugeSet = 'all' | 'primary' | 'worker';

interface GaugeSpec<R> {
  name: string;
  help: string;
  read: R;
  aggregator: Aggregator;
  /** Decided by the primary (else by the request path). */
  primary?: boolean;
}

const UPSTREAM_GAUGES: ReadonlyArray<GaugeSpec<UpstreamRead>> = [
  {
    name: 'gatewise_upstream_inflight',
    aggregator: 'sum',
    help: 'Requests admitted to the upstream and not yet finished.',
    read: (g, name) => {
      const guard = g.runtime.guards.get(name);
      if (guard) return guard.queue.inflight;
      let sum = 0;
      for (const server of g.runtime.upstreams.get(name)?.servers ?? []) sum += server.inflight;
      return sum;
    },
  },
  {
    name: 'gatewise_upstream_queue_depth',
    aggregator: 'sum',
    help: 'Requests waiting for an admission slot.',
    read: (g, name) => g.runtime.guards.get(name)?.queue.length ?? null,
  },
  {
    name: 'gatewise_upstream_admission_capacity',
    help: 'max_inflight + queue: requests the upstream admits or queues at once, summed over worker processes (no series when unlimited).',
    aggregator: 'sum',
    read: (g, name) => {
      const limits = g.runtime.config.upstreams[name]?.limits;
      return limits === undefined || limits.max_inflight === 0 ? null : limits.max_inflight + limits.queue;
    },
  },
  {
    name: 'gatewise_upstream_panic',
    aggregator: 'max',
    help: '1 while fewer servers are healthy than the panic threshold and load spreads over all of them.',
    read: (g, name) => {
      const guard = g.runtime.guards.get(name);
      return guard ? Number(guard.panic) : null;
    },
  },
];

const SERVER_GAUGES: ReadonlyArray<GaugeSpec<ServerRead>> = [
  {
    name: 'gatewise_server_available',
    aggregator: 'min',
    help: '1 when balancers may pick the server (healthy, not ejected, not draining, breaker not open), else 0.',
    read: (g, up, i) => {
      const server = g.runtime.upstreams.get(up)?.servers[i];
      return server ? Number(server.available) : null;
    },
  },
  {
    name: 'gatewise_server_healthy',
    aggregator: 'max',
    primary: true,
    help: '1 when active health checks pass (or none are configured), else 0.',
    read: (g, up, i) => {
      const guard = g.runtime.guards.get(up)?.servers[i];
      return guard ? Number(guard.healthy) : null;
    },
  },
  {
    name: 'gatewise_server_ejected',
    aggregator: 'max',
    help: '1 while passive health (outlier detection) keeps the server out of rotation, else 0.',
    read: (g, up, i) => {
      const guard = g.runtime.guards.get(up);
      return guard ? Number(guard.isEjected(i)) : null;
    },
  },
  {
    name: 'gatewise_server_breaker_open',
    aggregator: 'max',
    help: '1 while the server circuit breaker is open, else 0 (no series when no breaker is configured).',
    read: (g, up, i) => {
      const breaker = g.runtime.guards.get(up)?.servers[i]?.breaker;
      return breaker ? Number(breaker.state === 'open') : null;
    },
  },
];

/** Registers the live-state gauges of `set` in `register`. */
export function registerGauges(register: Registry, source: GatewaySource, set: GaugeSet = 'all'): void {
  const registers = [register];
  const wanted = (spec: { primary?: boolean }) => set === 'all' || (set === 'primary') === (spec.primary === true);
  for (const { name, help, read, aggregator } of UPSTREAM_GAUGES.filter(wanted)) {
    new Gauge({
      name,
      help,
      aggregator,
      labelNames: ['upstream'],
      registers,
      collect() {
        this.reset();
        const gateway = source();
        if (gateway === null) return;
        for (const upstream of gateway.runtime.upstreams.keys()) {
          const value = read(gateway, upstream);
          if (value !== null) this.set({ upstream }, value);
        }
      },
    });
  }
  for (const { name, help, read, aggregator } of SERVER_GAUGES.filter(wanted)) {
    new Gauge({
      name,
      help,
      aggregator,
      labelNames: ['upstream', 'server'],
      registers,
      collect() {
        this.reset();
        const gateway = source();
        if (gateway === null) return;
        for (const [upstream, u] of gateway.runtime.upstreams) {
          for (const server of u.servers) {
            const value = read(gateway, upstream, server.index);
            if (value !== null) this.set({ upstream, server: server.address }, value);
          }
        }
      },
    });
  }
  if (set === 'primary') return;
  new Gauge({
    name: 'gatewise_server_connections',
    aggregator: 'sum',
    help: 'Open upstream connections: idle in the keep-alive pool, or busy with a request.',
    labelNames: ['upstream', 'server', 'state'],
    registers,
    collect() {
      this.reset();
      const gateway = source();
      if (gateway === null) return;
      for (const [upstream, u] of gateway.runtime.upstreams) {
        for (const server of u.servers) {
          const idle = server.idle.length;
          this.set({ upstream, server: server.address, state: 'idle' }, idle);
          this.set({ upstream, server: server.address, state: 'busy' }, Math.max(0, server.open - idle));
        }
      }
    },
  });
}
