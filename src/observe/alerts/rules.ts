/**
 * Alert rules: the built-in defaults, and the evaluation of one rule's condition into the label sets
 * (one per upstream or per server) for which it holds now. The state machine around it (pending,
 * firing, resolved) is the engine's; the equivalent PromQL is prometheus.ts's. Both read the same
 * definitions: a rate is a difference of the counters /metrics exposes, a state is the gauge's value.
 */
import { type AlertRuleConfig, type AlertsConfig, alertRuleSchema } from '../../config/alerts.js';
import type { Runtime } from '../../proxy/index.js';
import type { LiveUpstream } from '../live.js';
import type { HistogramTotals, UpstreamTotals } from '../metrics.js';

/** One rule of the built-in set; a configured rule of the same name replaces it. */
const DEFAULTS: readonly unknown[] = [
  {
    name: 'GatewiseUpstreamDown',
    upstream_unavailable: {},
    for: '15s',
    severity: 'critical',
    annotations: {
      summary: 'Upstream {{ $labels.upstream }} has no available server',
      description:
        'Every server of {{ $labels.upstream }} is unhealthy, ejected, draining or behind an open breaker: requests get 503 destination_unavailable.',
    },
  },
  {
    name: 'GatewiseErrorRatioHigh',
    error_ratio: { status_class: '5xx', above: '5%', window: '5m', min_requests: 20 },
    for: '2m',
    severity: 'critical',
    annotations: {
      summary: '{{ $value | humanizePercentage }} of requests to {{ $labels.upstream }} end in 5xx',
      description:
        'More than 5% of the answers for upstream {{ $labels.upstream }} were 5xx over 5 minutes. The dashboard and /api/failures name the error type and root cause of each.',
    },
  },
  {
    name: 'GatewiseServerUnhealthy',
    server_unhealthy: {},
    for: '1m',
    severity: 'warning',
    annotations: {
      summary: 'Server {{ $labels.server }} of {{ $labels.upstream }} is out of rotation',
      description:
        'Active health checks fail or passive health ejected the server for more than a minute; the others carry its share.',
    },
  },
  {
    name: 'GatewiseBreakerOpen',
    breaker_open: {},
    for: '0s',
    keep_firing_for: '2m',
    severity: 'warning',
    annotations: {
      summary: 'Circuit breaker open for {{ $labels.server }} ({{ $labels.upstream }})',
      description:
        'The server failed often enough for its breaker to open; it gets only trial requests until they pass.',
    },
  },
  {
    name: 'GatewiseQueueSaturated',
    queue_saturation: { above: '90%' },
    for: '1m',
    severity: 'warning',
    annotations: {
      summary: 'Upstream {{ $labels.upstream }} is at {{ $value | humanizePercentage }} of its admission capacity',
      description:
        'In-flight and queued requests nearly fill max_inflight + queue: more load gets 503 connection_limit_reached.',
    },
  },
  {
    name: 'GatewiseUpstreamSlow',
    latency: { quantile: '99%', measure: 'head', window: '5m', min_requests: 20 },
    for: '5m',
    severity: 'warning',
    annotations: {
      summary: 'p99 time to first byte of {{ $labels.upstream }} is {{ $value | humanizeDuration }}',
      description:
        'The slowest responses are close to the read timeout (80% of it): a little slower and they become 504 connection_read_timeout.',
    },
  },
  {
    name: 'GatewiseRestartLoop',
    restart_loop: { restarts: 3, window: '5m' },
    for: '0s',
    keep_firing_for: '5m',
    severity: 'critical',
    annotations: {
      summary:
        'Managed server {{ $labels.server }} of {{ $labels.upstream }} restarted {{ $value }} times in 5 minutes',
      description:
        'The process keeps exiting; /api/processes shows each exit with its cause and the last lines it printed. After restart.max_restarts in restart.window Gatewise stops restarting it.',
    },
  },
];

export const DEFAULT_RULES: readonly AlertRuleConfig[] = DEFAULTS.map((rule) => alertRuleSchema.parse(rule));

export type ConditionKind =
  | 'error_ratio'
  | 'latency'
  | 'server_unhealthy'
  | 'upstream_unavailable'
  | 'breaker_open'
  | 'queue_saturation'
  | 'restart_loop';

export function conditionOf(rule: AlertRuleConfig): ConditionKind {
  if (rule.error_ratio !== undefined) return 'error_ratio';
  if (rule.latency !== undefined) return 'latency';
  if (rule.server_unhealthy !== undefined) return 'server_unhealthy';
  if (rule.upstream_unavailable !== undefined) return 'upstream_unavailable';
  if (rule.breaker_open !== undefined) return 'breaker_open';
  if (rule.restart_loop !== undefined) return 'restart_loop';
  return 'queue_saturation';
}

/** The configured rules after the defaults (unless switched off) they do not replace. */
export function effectiveRules(config: AlertsConfig): AlertRuleConfig[] {
  const names = new Set(config.rules.map((rule) => rule.name));
  const defaults = config.default_rules ? DEFAULT_RULES.filter((rule) => !names.has(rule.name)) : [];
  return [...defaults, ...config.rules];
}

/** A rule's window (ms) when its condition is a rate, else 0. */
export function windowOf(rule: AlertRuleConfig): number {
  return rule.error_ratio?.window ?? rule.latency?.window ?? 0;
}

/** The latency limit of a rule for an upstream, in ms: as written, or 80% of the read timeout. */
export function latencyLimitMs(rule: AlertRuleConfig, readTimeoutMs: number): number {
  return rule.latency?.above ?? 0.8 * readTimeoutMs;
}

/** Where a condition holds: the labels that tell it apart (upstream, server) and the value seen. */
export interface Hit {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What a restart_loop rule reads of a managed server. */
export interface ProcessFacts {
  readonly upstream: string;
  readonly server: string;
  /** Gave up restarting (crash loop). */
  readonly failed: boolean;
  restartsWithin(windowMs: number): number;
}

export interface EvalInput {
  readonly runtime: Runtime;
  readonly processes: readonly ProcessFacts[];
  /** Counters now, and as they were one window ago (or at start, when that is more recent). */
  readonly totals: ReadonlyMap<string, UpstreamTotals>;
  readonly baseline: (windowMs: number) => ReadonlyMap<string, UpstreamTotals>;
  /**
   * The request path's state in each worker process (`serve --workers`); undefined when this process
   * serves the requests itself. Availability, queues, ejections and breakers live there.
   */
  readonly live?: ReadonlyArray<Record<string, LiveUpstream>> | undefined;
}

/** The hits of one rule now. */
export function evaluateRule(rule: AlertRuleConfig, input: EvalInput): Hit[] {
  const hits: Hit[] = [];
  const { runtime } = input;
  if (rule.restart_loop !== undefined) {
    for (const p of input.processes) {
      if (rule.upstream !== undefined && rule.upstream !== p.upstream) continue;
      const restarts = p.restartsWithin(rule.restart_loop.window);
      if (p.failed || restarts >= rule.restart_loop.restarts)
        hits.push({ labels: { upstream: p.upstream, server: p.server }, value: restarts });
    }
    return hits;
  }
  for (const [name, upstream] of runtime.upstreams) {
    if (rule.upstream !== undefined && rule.upstream !== name) continue;
    const guard = runtime.guards.get(name);
    if (rule.error_ratio !== undefined || rule.latency !== undefined) {
      const now = input.totals.get(name);
      if (now === undefined) continue;
      const before = input.baseline(windowOf(rule)).get(name);
      const value = rule.error_ratio
        ? errorRatio(rule.error_ratio, now, before)
        : latencyQuantile(rule.latency!, now, before);
      if (value === null) continue;
      const limit = rule.error_ratio
        ? rule.error_ratio.above
        : latencyLimitMs(rule, upstream.spec.readTimeoutMs) / 1000;
      if (value > limit) hits.push({ labels: { upstream: name }, value });
    } else if (rule.upstream_unavailable !== undefined) {
      // With workers: when any of them has no server left (its requests get the 503).
      const none = (servers: ReadonlyArray<{ available: boolean }>) =>
        servers.length > 0 && servers.every((s) => !s.available);
      const hit =
        input.live === undefined
          ? none(upstream.servers)
          : input.live.some((worker) => worker[name] !== undefined && none(worker[name]!.servers));
      if (hit) hits.push({ labels: { upstream: name }, value: 0 });
    } else if (rule.queue_saturation !== undefined) {
      const limits = runtime.config.upstreams[name]?.limits;
      if (guard === undefined || limits === undefined || limits.max_inflight === 0) continue;
      // Limits hold per process: the fullest worker's queue.
      const loads =
        input.live === undefined
          ? [guard.queue.inflight + guard.queue.length]
          : input.live.map((worker) => (worker[name]?.inflight ?? 0) + (worker[name]?.queued ?? 0));
      const value = Math.max(0, ...loads) / (limits.max_inflight + limits.queue);
      if (value > rule.queue_saturation.above) hits.push({ labels: { upstream: name }, value });
    } else if (guard !== undefined) {
      for (const server of upstream.servers) {
        const state = guard.servers[server.index];
        if (state === undefined) continue;
        const inWorkers = input.live?.map((worker) => worker[name]?.servers.find((s) => s.key === server.key));
        const hit =
          rule.breaker_open !== undefined
            ? inWorkers === undefined
              ? state.breaker?.state === 'open'
              : inWorkers.some((s) => s?.breaker === 'open')
            : !state.healthy ||
              (inWorkers === undefined ? guard.isEjected(server.index) : inWorkers.some((s) => s?.ejected === true));
        if (hit) hits.push({ labels: { upstream: name, server: server.address }, value: 1 });
      }
    }
  }
  return hits;
}

type RatioSpec = NonNullable<AlertRuleConfig['error_ratio']>;
type LatencySpec = NonNullable<AlertRuleConfig['latency']>;

function difference(now: Record<string, number>, before: Record<string, number> | undefined, key: string): number {
  return (now[key] ?? 0) - (before?.[key] ?? 0);
}

/** Counted / answered over the window, or null below min_requests. */
export function errorRatio(spec: RatioSpec, now: UpstreamTotals, before: UpstreamTotals | undefined): number | null {
  const requests = now.requests - (before?.requests ?? 0);
  if (requests < spec.min_requests || requests <= 0) return null;
  const counted =
    spec.error_type !== undefined
      ? difference(now.byErrorType, before?.byErrorType, spec.error_type)
      : spec.cause !== undefined
        ? difference(now.byCause, before?.byCause, spec.cause)
        : difference(now.byClass, before?.byClass, spec.status_class ?? '5xx');
  return counted / requests;
}

/** The quantile over the window in seconds, or null below min_requests. */
export function latencyQuantile(
  spec: LatencySpec,
  now: UpstreamTotals,
  before: UpstreamTotals | undefined,
): number | null {
  const a = spec.measure === 'head' ? now.head : now.total;
  const b = before === undefined ? undefined : spec.measure === 'head' ? before.head : before.total;
  const counts = a.counts.map((n, i) => n - (b?.counts[i] ?? 0));
  const total = a.count - (b?.count ?? 0);
  if (total < spec.min_requests || total <= 0) return null;
  return histogramQuantile(spec.quantile, a.bounds, counts);
}

/**
 * Prometheus' histogram_quantile: find the bucket holding rank q·n and interpolate linearly within
 * it (from 0 for the first bucket); a rank in the overflow bucket reads as the last finite bound.
 */
export function histogramQuantile(q: number, bounds: HistogramTotals['bounds'], counts: readonly number[]): number {
  const total = counts.reduce((sum, n) => sum + n, 0);
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < bounds.length; i++) {
    const inBucket = counts[i]!;
    if (seen + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1]!;
}
