/**
 * The running gateway: listeners, the current runtime, reload and graceful shutdown.
 */
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Config, ListenConfig } from '../config/index.js';
import { EventBus } from '../observe/events.js';
import {
  type DiscoverSpec,
  discoveredTargets,
  type HostLookup,
  HostResolver,
  type SrvLookup,
  UpstreamDiscoveries,
} from '../upstream/index.js';
import { ClientConnection } from './client-connection.js';
import { Clock, type Sweepable } from './clock.js';
import type { ProxyContext, TrackedConnection } from './context.js';
import type { Exchange } from './exchange.js';
import { serveHttp2Session } from './h2.js';
import { parseListenAddress } from './listen-address.js';
import type { ExchangeObserver } from './observer.js';
import { compileRuntime, hostNameOf, type Runtime, type RuntimeDeps, serversOf } from './runtime.js';
import { closeIdle, expireIdle } from './upstream-pool.js';

interface BoundListener {
  readonly key: string;
  readonly server: net.Server | tls.Server;
  readonly tls: boolean;
}

export interface GatewayOptions {
  observer: ExchangeObserver;
  /** Where transitions (health, ejection, breaker, drain, panic) go; a new bus when omitted. */
  events?: EventBus | undefined;
  /** Host name lookup for server URLs (tests inject one); the system resolver when omitted. */
  lookup?: HostLookup | undefined;
  /** SRV lookup for upstreams with `discover` (tests inject one); the system resolver when omitted. */
  srvLookup?: SrvLookup | undefined;
  /** Whether a managed server's process is ready (the supervisor knows); omitted = none managed. */
  processReady?: ((upstream: string, url: string) => boolean) | undefined;
  /** Limiters of routes with `rate_limit.scope: cluster` (shared state); omitted = every limit is local. */
  rateLimiterFor?: RuntimeDeps['rateLimiterFor'];
  /**
   * How the work of a node is split over processes (`serve --workers`). `primary`: health checks,
   * discovery and the state the admin API shows, no listener; `worker`: the listeners and the request
   * path, with health and drain state followed from the primary (see `onRuntime`). Default: both.
   */
  role?: 'primary' | 'worker' | undefined;
  /** Called with every runtime swapped in (start, reload, a DNS or discovery change). */
  onRuntime?: ((runtime: Runtime) => void) | undefined;
}

export class Gateway implements Sweepable {
  readonly ctx: ProxyContext;
  private readonly listeners = new Map<string, BoundListener>();
  private readonly h2 = http2.createServer();
  private stopped = false;
  readonly events: EventBus;
  private lastPruneMs = 0;
  /** One resolver per host name in the current config's server URLs. */
  private readonly resolvers = new Map<string, HostResolver>();
  private readonly lookup: HostLookup | undefined;
  /** SRV discovery of the upstreams with `discover`. */
  private readonly discoveries: UpstreamDiscoveries;
  private readonly discovered = (upstream: string) => this.discoveries.servers(upstream);
  private readonly processReady: GatewayOptions['processReady'];
  private readonly rateLimiterFor: GatewayOptions['rateLimiterFor'];
  private readonly role: GatewayOptions['role'];
  private readonly onRuntime: GatewayOptions['onRuntime'];

  constructor(config: Config, options: GatewayOptions) {
    const clock = new Clock();
    this.events = options.events ?? new EventBus();
    this.lookup = options.lookup;
    this.discoveries = new UpstreamDiscoveries(
      {
        changed: (upstream, srv, found) => {
          this.events.emit({ kind: 'dns', upstream, host: srv, addresses: discoveredTargets(found) });
          if (!this.stopped) void this.reload(this.ctx.runtime.config).catch(() => undefined);
        },
        failed: (upstream, srv, error, kept) =>
          this.events.emit({
            kind: 'dns',
            upstream,
            host: srv,
            addresses: discoveredTargets(kept),
            error: error.message,
          }),
      },
      options.srvLookup,
    );
    this.processReady = options.processReady;
    this.rateLimiterFor = options.rateLimiterFor;
    this.role = options.role;
    this.onRuntime = options.onRuntime;
    this.ctx = {
      runtime: compileRuntime(config, this.deps(clock)),
      clock,
      observer: options.observer,
      connections: new Set<TrackedConnection>(),
      draining: false,
    };
    clock.add(this);
    this.h2.on('session', (session) => serveHttp2Session(session, this.ctx));
  }

  private deps(clock: Clock): RuntimeDeps {
    return {
      time: clock,
      emit: (event) => this.events.emit(event),
      processReady: this.processReady,
      rateLimiterFor: this.rateLimiterFor,
      resolved: (host) =>
        this.resolvers
          .get(host)
          ?.current()
          ?.addresses.map((a) => a.address),
      discovered: this.discovered,
    };
  }

  get runtime(): Runtime {
    return this.ctx.runtime;
  }

  /** Binds every listener of the current config. Rejects (binding nothing new) when one fails. */
  async start(): Promise<void> {
    const config = this.ctx.runtime.config;
    if (await this.syncResolvers(config)) this.ctx.runtime = compileRuntime(config, this.deps(this.ctx.clock));
    await this.syncListeners(config.listen);
    this.onRuntime?.(this.ctx.runtime);
    await this.startGuards(this.ctx.runtime);
  }

  /** Starts active health checks, except in a worker (its primary runs them). */
  private async startGuards(runtime: Runtime): Promise<void> {
    if (this.role === 'worker') return;
    await Promise.all([...runtime.guards.values()].map((g) => g.start()));
  }

  /** Addresses actually bound, e.g. `127.0.0.1:8080` (useful with port 0). */
  addresses(): string[] {
    const out: string[] = [];
    for (const l of this.listeners.values()) {
      const a = l.server.address();
      if (a !== null && typeof a === 'object')
        out.push(`${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    }
    return out;
  }

  /**
   * Swaps in a new configuration atomically: new requests use it at once, in-flight requests finish
   * on the runtime they started with. The caller has validated the config already.
   */
  async reload(config: Config): Promise<Runtime> {
    await this.syncResolvers(config);
    const next = compileRuntime(config, this.deps(this.ctx.clock));
    await this.syncListeners(config.listen);
    const previous = this.ctx.runtime;
    this.ctx.runtime = next;
    this.onRuntime?.(next);
    await this.startGuards(next);
    for (const upstream of previous.upstreams.values()) upstream.retired = true;
    closeIdle(previous.upstreams.values());
    await Promise.all([...previous.guards.values()].map((g) => g.stop()));
    return next;
  }

  /**
   * Starts a resolver for every host name in the config's server URLs and in the servers that SRV
   * discovery found (and stops the others); the first resolution is awaited so the runtime starts
   * with every address. Returns whether any name resolved. A host name that does not resolve stays
   * one server, whose connects report the DNS error.
   */
  private async syncResolvers(config: Config): Promise<boolean> {
    const discovered = await this.syncDiscoveries(config);
    const wanted = new Map<string, { refreshMs: number; upstream: string }>();
    for (const [name, u] of Object.entries(config.upstreams)) {
      for (const s of serversOf(name, u, this.discovered)) {
        const host = hostNameOf(s.url);
        if (host === undefined) continue;
        const prior = wanted.get(host);
        if (prior === undefined || u.dns.refresh < prior.refreshMs)
          wanted.set(host, { refreshMs: u.dns.refresh, upstream: name });
      }
    }
    for (const [host, resolver] of this.resolvers) {
      if (!wanted.has(host)) {
        resolver.stop();
        this.resolvers.delete(host);
      }
    }
    const starts: Array<Promise<unknown>> = [];
    for (const [host, { refreshMs, upstream }] of wanted) {
      if (this.resolvers.has(host)) continue;
      const resolver = new HostResolver(
        host,
        refreshMs,
        (resolved) => {
          this.events.emit({ kind: 'dns', upstream, host, addresses: resolved.addresses.map((a) => a.address) });
          // New addresses, new servers: recompile, exactly like a reload of the same config.
          if (!this.stopped) void this.reload(this.ctx.runtime.config).catch(() => undefined);
        },
        (error, kept) => {
          this.events.emit({
            kind: 'dns',
            upstream,
            host,
            addresses: kept?.addresses.map((a) => a.address) ?? [],
            error: error.message,
          });
        },
        this.lookup,
      );
      this.resolvers.set(host, resolver);
      starts.push(resolver.start().catch(() => undefined));
    }
    await Promise.all(starts);
    return discovered || [...this.resolvers.values()].some((r) => r.current() !== undefined);
  }

  /**
   * Starts SRV discovery for every upstream with `discover` and stops it for the others. A change of
   * the servers found recompiles the runtime like a DNS change of a host name: new requests go to
   * the new set, requests in flight on a server that went away finish there (they hold the runtime
   * they started on) and its idle connections are closed.
   */
  private syncDiscoveries(config: Config): Promise<boolean> {
    const wanted = new Map<string, DiscoverSpec>();
    for (const [name, u] of Object.entries(config.upstreams))
      if (u.discover)
        wanted.set(name, { srv: u.discover.srv, scheme: u.discover.scheme, intervalMs: u.discover.interval });
    return this.discoveries.sync(wanted);
  }

  private async syncListeners(wanted: readonly ListenConfig[]): Promise<void> {
    if (this.role === 'primary') return;
    const keys = new Set<string>();
    for (const spec of wanted) {
      const key = `${spec.address}|${spec.tls ? 'tls' : 'plain'}`;
      keys.add(key);
      const existing = this.listeners.get(key);
      if (existing) {
        if (spec.tls && existing.server instanceof tls.Server) existing.server.setSecureContext(this.tlsOptions(spec));
        continue;
      }
      const server = spec.tls ? this.createTlsServer(spec) : this.createPlainServer();
      const { host, port } = parseListenAddress(spec.address);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, backlog: 4096 }, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      this.listeners.set(key, { key, server, tls: Boolean(spec.tls) });
    }
    for (const [key, l] of this.listeners) {
      if (!keys.has(key)) {
        l.server.close();
        this.listeners.delete(key);
      }
    }
  }

  private createPlainServer(): net.Server {
    return net.createServer({ noDelay: true }, (socket) => {
      new ClientConnection(socket, this.ctx, 'http');
    });
  }

  private tlsOptions(spec: ListenConfig): tls.SecureContextOptions & tls.TlsOptions {
    return {
      cert: readFileSync(spec.tls!.cert),
      key: readFileSync(spec.tls!.key),
      ALPNProtocols: spec.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    };
  }

  private createTlsServer(spec: ListenConfig): tls.Server {
    const server = tls.createServer({ ...this.tlsOptions(spec), noDelay: true });
    server.on('secureConnection', (socket) => {
      if (socket.alpnProtocol === 'h2') this.h2.emit('connection', socket);
      else new ClientConnection(socket, this.ctx, 'https');
    });
    server.on('tlsClientError', () => {
      // A client that fails its handshake costs only its own connection.
    });
    return server;
  }

  sweep(nowMs: number): void {
    const rt = this.ctx.runtime;
    expireIdle(rt.upstreams.values(), nowMs);
    for (const guard of rt.guards.values()) {
      guard.tick();
      guard.queue.expire(nowMs, expireQueued);
    }
    if (nowMs - this.lastPruneMs >= 10_000) {
      this.lastPruneMs = nowMs;
      for (const limiter of rt.rateLimiters) limiter.prune(nowMs);
    }
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish for up to `graceMs`, close idle
   * keep-alive connections at once, then close whatever is left.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.draining = true;
    for (const resolver of this.resolvers.values()) resolver.stop();
    this.discoveries.stop();
    for (const l of this.listeners.values()) l.server.close();
    this.listeners.clear();
    for (const c of [...this.ctx.connections]) c.drain();
    const deadline = Date.now() + graceMs;
    while (this.ctx.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const c of [...this.ctx.connections]) c.destroy();
    closeIdle(this.ctx.runtime.upstreams.values());
    await Promise.all([...this.ctx.runtime.guards.values()].map((g) => g.stop()));
    this.h2.close();
    this.ctx.clock.stop();
  }
}

function expireQueued(ex: Exchange): void {
  ex.queueExpired();
}
