/**
 * Shared state through Redis (`cluster.redis`): one rate limit budget for every node (routes with
 * `rate_limit.scope: cluster`), ejection hints between nodes, and alert notifications sent once per
 * cluster. Each part works without Redis too, on what this node knows alone; none ever makes a
 * request wait for Redis or fail because of it.
 *
 * A running gateway wires it in three places (see createSharedState): the gateway's
 * `rateLimiterFor`, the alert engine's `claim`, and start/stop around the service's own.
 */
import type { Registry } from 'prom-client';
import { type Config, nodeIdOf, type RouteConfig } from '../../config/index.js';
import type { EventBus } from '../../observe/index.js';
import type { Runtime } from '../../proxy/index.js';
import type { RouteRateLimiter } from '../../resilience/index.js';
import { AlertDedup } from './alert-dedup.js';
import { EjectionHints } from './hints.js';
import { RedisLink } from './link.js';
import { registerSharedStateMetrics } from './metrics.js';
import { ClusterRateLimiter, defineLeaseCommand, type RateLimitStats } from './rate-limit.js';

export { type AlertClaimStats, AlertDedup, CLAIM_TTL_MS } from './alert-dedup.js';
export { type EjectionHint, EjectionHints, type HintStats, hintOf, parseHint } from './hints.js';
export { type LinkState, MAX_RECONNECT_DELAY_MS, RedisLink, type RedisLinkOptions, reconnectDelayMs } from './link.js';
export { registerSharedStateMetrics, type SharedStateStats } from './metrics.js';
export {
  batchSize,
  ClusterRateLimiter,
  type ClusterRateLimitOptions,
  CREDIT,
  defineLeaseCommand,
  type RateLimitStats,
} from './rate-limit.js';

export interface SharedStateDeps {
  /** Where the shared-state series go (the service's Metrics.register). */
  registry: Registry;
  warn: (record: Record<string, unknown>) => void;
  info: (record: Record<string, unknown>) => void;
  /** The gateway's event bus: this node's ejections become hints. */
  events: EventBus;
  /** The gateway's current runtime (hints find servers and guards in it). */
  runtime: () => Runtime;
}

export interface SharedState {
  readonly nodeId: string;
  readonly link: RedisLink;
  readonly hints: EjectionHints;
  readonly alerts: AlertDedup;
  readonly rateLimits: RateLimitStats;
  /** For GatewayOptions.rateLimiterFor: the limiter of a route whose rate limit has `scope: cluster`. */
  readonly rateLimiterFor: (index: number, route: RouteConfig) => RouteRateLimiter | undefined;
  /** For AlertEngineOptions.claim: whether this node sends an alert transition. */
  readonly alertClaim: (fingerprint: string, status: 'firing' | 'resolved') => Promise<boolean>;
  /** Connects (waits at most about a second for Redis; a node starts without it) and subscribes. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The shared state of a node whose config has `cluster.redis`, or undefined without it (then every
 * limit is local, no hints are exchanged and every node notifies on its own).
 *
 * The Redis settings are read once: changing `cluster.redis` takes a restart. `hint_for` is read
 * from the current runtime at each hint.
 */
export function createSharedState(config: Config, deps: SharedStateDeps): SharedState | undefined {
  const redis = config.cluster?.redis;
  if (config.cluster === undefined || redis === undefined) return undefined;
  const nodeId = nodeIdOf(config.cluster);
  const initialHintFor = config.cluster.hint_for;
  const link = new RedisLink({
    url: redis.url,
    commandTimeoutMs: redis.command_timeout,
    warn: deps.warn,
    info: deps.info,
  });
  defineLeaseCommand(link);
  const rateLimits: RateLimitStats = { fallback: 0, leases: 0 };
  const hints = new EjectionHints(link, {
    channel: `${redis.prefix}hints`,
    nodeId,
    runtime: deps.runtime,
    hintForMs: () => deps.runtime().config.cluster?.hint_for ?? initialHintFor,
    info: deps.info,
  });
  const alerts = new AlertDedup(link, redis.prefix, nodeId);
  registerSharedStateMetrics(deps.registry, { link, rateLimits, hints: hints.stats, alerts: alerts.stats });
  let unsubscribe: (() => void) | undefined;

  return {
    nodeId,
    link,
    hints,
    alerts,
    rateLimits,
    rateLimiterFor: (index, route) => {
      const limit = route.rate_limit;
      if (limit?.scope !== 'cluster') return undefined;
      // Nodes share one configuration, so route #i with its match is the same route on every node.
      const match = `${route.match.host ?? ''}${route.match.path}`;
      return new ClusterRateLimiter(
        link,
        {
          keyPrefix: `${redis.prefix}rl:${index}:${match}:`,
          rate: limit.rate,
          per: limit.per,
          burst: limit.burst > 0 ? limit.burst : limit.rate,
        },
        rateLimits,
      );
    },
    alertClaim: alerts.claim,
    async start() {
      unsubscribe ??= deps.events.on((event) => hints.observe(event));
      // The subscription is queued until its connection is up, so it is asked for before connecting.
      const subscribed = hints.start();
      await link.start();
      // Redis answering: hints from the first moment on. Not answering: no reason to wait longer.
      if (link.up) await subscribed;
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      hints.stop();
      await link.stop();
    },
  };
}
