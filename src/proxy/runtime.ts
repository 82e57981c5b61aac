/**
 * The compiled form of a configuration: everything the request path needs, built once per load or
 * reload. An exchange holds the runtime it started with, so in-flight requests finish on the config
 * they began under while new ones take the new one.
 */

import { isIP } from 'node:net';
import {
  type Config,
  matchesCidr,
  parseCidrs,
  type RouteConfig,
  type ServerConfig,
  type UpstreamConfig,
} from '../config/index.js';
import type { HeadLimits } from '../http1/index.js';
import {
  type GuardEvent,
  RateLimiter,
  type RouteRateLimiter,
  type TimeSource,
  UpstreamGuard,
} from '../resilience/index.js';
import { type DiscoveredServer, parseServerUrl, Upstream } from '../upstream/index.js';
import type { Exchange } from './exchange.js';
import { type CompiledHeaderEdits, compileHeaderEdits } from './header-rules.js';
import { Router } from './router.js';
import type { UpstreamConnection } from './upstream-connection.js';

export interface CompiledRoute {
  readonly index: number;
  /** `#0 /api` — how logs and metrics name the route. */
  readonly label: string;
  readonly upstream: Upstream<UpstreamConnection>;
  readonly prefix: string;
  readonly stripPrefix: boolean;
  /** Replacement for the matched prefix, or null to forward the path unchanged. */
  readonly rewritePrefix: string | null;
  readonly requestEdits: CompiledHeaderEdits;
  readonly responseEdits: CompiledHeaderEdits;
  /** The resilience state of the route's upstream. */
  readonly guard: UpstreamGuard<Exchange>;
  /** Per-client budget (a local token bucket, or a cluster-wide one), or null when the route has none. */
  readonly rateLimiter: RouteRateLimiter | null;
}

export interface Runtime {
  readonly generation: number;
  readonly config: Config;
  readonly router: Router<CompiledRoute>;
  /** The routes in config order (`routes[i].index === i`). */
  readonly routes: readonly CompiledRoute[];
  readonly upstreams: ReadonlyMap<string, Upstream<UpstreamConnection>>;
  readonly guards: ReadonlyMap<string, UpstreamGuard<Exchange>>;
  readonly rateLimiters: readonly RouteRateLimiter[];
  readonly requestLimits: HeadLimits;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  readonly maxBodyBytes: number;
  readonly verbose: boolean;
  /** This hop's pseudonym in Via (RFC 9110 §7.6.3), also what loop detection looks for. */
  readonly pseudonym: string;
  /** `1.1 gatewise` and `1.0 gatewise`: the Via entries for each received protocol version. */
  readonly viaEntry11: string;
  readonly viaEntry10: string;
  readonly maxHops: number;
  /** Lowercased request-id header name. */
  readonly requestIdHeader: string;
  /** The request-id header as written in the config, for the heads this hop writes. */
  readonly requestIdHeaderName: string;
  /** Lowercased name when it is not x-request-id (such lines are dropped and rewritten), else ''. */
  readonly requestIdLower: string;
  /** Largest request body kept in memory so that the request can be replayed on another server. */
  readonly replayBodyBytes: number;
  readonly accessLog: boolean;
  isTrusted(address: string): boolean;
}

let generations = 0;

/** What a runtime needs from the gateway that compiles it. */
export interface RuntimeDeps {
  time: TimeSource;
  emit: (event: GuardEvent) => void;
  /** The current addresses of a host name in a server URL, when known. */
  resolved?: ((host: string) => readonly string[] | undefined) | undefined;
  /** Whether the process of a managed server (upstream, server URL) is ready; omitted = none managed. */
  processReady?: ((upstream: string, url: string) => boolean) | undefined;
  /** The servers an upstream's `discover` found last, when it has one and found any. */
  discovered?: ((upstream: string) => readonly DiscoveredServer[] | undefined) | undefined;
  /**
   * The limiter of a route with a rate limit when it is not this process's own token bucket (a
   * `scope: cluster` limit through Redis, a worker's share of its node's); omitted, or undefined
   * returned, = the local token bucket.
   */
  rateLimiterFor?: ((index: number, route: RouteConfig) => RouteRateLimiter | undefined) | undefined;
}

/** A server of an upstream, listed in the config or found by its `discover`. */
export type ServerEntry = Pick<ServerConfig, 'url' | 'weight' | 'backup' | 'tls'>;

/** The servers of an upstream: those listed, then those its `discover` found. */
export function serversOf(
  name: string,
  upstream: UpstreamConfig,
  discovered: RuntimeDeps['discovered'],
): readonly ServerEntry[] {
  if (upstream.discover === undefined) return upstream.servers;
  const found = discovered?.(name);
  return found === undefined || found.length === 0 ? upstream.servers : [...upstream.servers, ...found];
}

/**
 * The route's limiter: the one `deps` gives (a cluster-wide one, or a worker's lease of its node's
 * budget), else the local token bucket.
 */
function rateLimiterOf(index: number, route: RouteConfig, deps: RuntimeDeps): RouteRateLimiter | null {
  const limit = route.rate_limit;
  if (limit === undefined) return null;
  const given = deps.rateLimiterFor?.(index, route);
  if (given !== undefined) return given;
  // burst 0 means "as many as rate" (the config's documented default).
  return new RateLimiter({ rate: limit.rate, per: limit.per, burst: limit.burst > 0 ? limit.burst : limit.rate });
}

/** The host name of an http(s) server URL, or undefined for IP literals and unix sockets. */
export function hostNameOf(url: string): string | undefined {
  if (url.startsWith('unix:')) return undefined;
  const host = parseServerUrl(url).host;
  return isIP(host) === 0 ? host : undefined;
}

export function compileRuntime(config: Config, deps: RuntimeDeps): Runtime {
  const upstreams = new Map<string, Upstream<UpstreamConnection>>();
  const guards = new Map<string, UpstreamGuard<Exchange>>();
  for (const [name, u] of Object.entries(config.upstreams)) {
    upstreams.set(
      name,
      new Upstream<UpstreamConnection>({
        name,
        servers: serversOf(name, u, deps.discovered).flatMap((s) => {
          const spec = { url: s.url, weight: s.weight, backup: s.backup, tls: s.tls };
          // Every address a host name resolves to is a server of its own.
          const addresses = hostNameOf(s.url) === undefined ? undefined : deps.resolved?.(hostNameOf(s.url)!);
          return addresses && addresses.length > 0 ? addresses.map((a) => ({ ...spec, connectHost: a })) : [spec];
        }),
        tls: u.tls,
        balance: u.balance,
        hashHeader: u.hash_header,
        connectTimeoutMs: u.timeouts.connect,
        sendTimeoutMs: u.timeouts.send,
        readTimeoutMs: u.timeouts.read,
        attempts: u.retries.attempts,
        maxIdlePerServer: u.keepalive.max_idle,
        idleTimeoutMs: u.keepalive.idle_timeout,
        maxRequestsPerConnection: u.keepalive.max_requests,
        maxResponseHeadBytes: u.max_response_header_bytes,
        websocketIdleTimeoutMs: u.websocket.idle_timeout,
      }),
    );
    const processReady = deps.processReady;
    guards.set(
      name,
      new UpstreamGuard<Exchange>(
        upstreams.get(name)!,
        u,
        deps.time,
        deps.emit,
        processReady && ((url) => processReady(name, url)),
      ),
    );
  }
  const rateLimiters: RouteRateLimiter[] = [];
  const routes = config.routes.map((r, index) => {
    const upstream = upstreams.get(r.upstream);
    if (!upstream) throw new Error(`route ${index} names unknown upstream ${r.upstream}`);
    const path = r.match.path;
    const route: CompiledRoute = {
      index,
      label: `#${index} ${r.match.host ? `${r.match.host}` : ''}${path}`,
      upstream,
      prefix: path,
      stripPrefix: r.strip_prefix,
      rewritePrefix: r.rewrite_prefix ? r.rewrite_prefix : null,
      requestEdits: compileHeaderEdits(r.request_headers),
      responseEdits: compileHeaderEdits(r.response_headers),
      guard: guards.get(r.upstream)!,
      rateLimiter: rateLimiterOf(index, r, deps),
    };
    if (route.rateLimiter) rateLimiters.push(route.rateLimiter);
    return { match: { host: r.match.host, path, methods: r.match.methods }, route };
  });
  const trust = parseCidrs(config.trust_proxies);
  return {
    generation: ++generations,
    config,
    router: new Router(routes),
    routes: routes.map((r) => r.route),
    upstreams,
    guards,
    rateLimiters,
    requestLimits: {
      maxHeadBytes: config.limits.max_header_bytes,
      maxRequestLineBytes: config.limits.max_request_line_bytes,
      maxHeaders: config.limits.max_headers,
    },
    headersTimeoutMs: config.limits.headers_timeout,
    requestTimeoutMs: config.limits.request_timeout,
    idleTimeoutMs: config.limits.idle_timeout,
    maxRequestsPerConnection: config.limits.max_requests_per_connection,
    maxBodyBytes: config.limits.max_body_bytes,
    verbose: config.errors.verbose,
    pseudonym: config.proxy.via,
    viaEntry11: `1.1 ${config.proxy.via}`,
    viaEntry10: `1.0 ${config.proxy.via}`,
    maxHops: config.proxy.max_hops,
    requestIdHeader: config.proxy.request_id_header.toLowerCase(),
    requestIdHeaderName: displayName(config.proxy.request_id_header),
    requestIdLower:
      config.proxy.request_id_header.toLowerCase() === 'x-request-id'
        ? ''
        : config.proxy.request_id_header.toLowerCase(),
    replayBodyBytes: 64 * 1024,
    accessLog: config.log.access,
    isTrusted: trust.length === 0 ? () => false : (address) => matchesCidr(address, trust),
  };
}

/** The path to forward: the prefix stripped or rewritten when the route asks for it. */
export function forwardedTarget(route: CompiledRoute, target: string): string {
  if (route.rewritePrefix === null && !route.stripPrefix) return target;
  const rest = route.prefix.endsWith('/') ? target.slice(route.prefix.length - 1) : target.slice(route.prefix.length);
  const replacement = route.rewritePrefix ?? '';
  const joined = replacement.endsWith('/') && rest.startsWith('/') ? replacement + rest.slice(1) : replacement + rest;
  if (joined === '') return '/';
  return joined.charCodeAt(0) === 0x2f ? joined : `/${joined}`;
}

/** `x-request-id` → `X-Request-Id`: how a configured lowercase header name is written on the wire. */
function displayName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}
