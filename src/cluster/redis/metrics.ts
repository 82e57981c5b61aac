/**
 * Shared state as Prometheus series, read from plain counters at scrape time (nothing on the request
 * path touches prom-client). Label values are fixed words: bounded.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertClaimStats } from './alert-dedup.js';
import type { HintStats } from './hints.js';
import type { RedisLink } from './link.js';
import type { RateLimitStats } from './rate-limit.js';

export interface SharedStateStats {
  link: RedisLink;
  rateLimits: RateLimitStats;
  hints: HintStats;
  alerts: AlertClaimStats;
}

export function registerSharedStateMetrics(register: Registry, stats: SharedStateStats): void {
  const registers = [register];
  new Gauge({
    name: 'gatewise_redis_up',
    help: 'Whether Redis (cluster.redis) answers now: 1, or 0 while shared state falls back to this node alone.',
    registers,
    collect() {
      this.set(stats.link.up ? 1 : 0);
    },
  });
  new Counter({
    name: 'gatewise_redis_unavailable_total',
    help: 'Times Redis became unreachable or stopped answering within command_timeout.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.link.stats.unavailable);
    },
  });
  new Counter({
    name: 'gatewise_redis_command_failures_total',
    help: 'Redis commands that failed or timed out, by what they were for (rate_limit, hint, alert_claim, ping).',
    labelNames: ['operation'],
    registers,
    collect() {
      this.reset();
      for (const [operation, count] of stats.link.stats.failures) this.inc({ operation }, count);
    },
  });
  new Counter({
    name: 'gatewise_rate_limit_local_fallback_total',
    help: 'Requests of routes with rate_limit.scope cluster decided by this node alone because Redis was unreachable.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.rateLimits.fallback);
    },
  });
  const hintResults = ['published', 'received', 'applied', 'ignored'] as const;
  new Counter({
    name: 'gatewise_ejection_hints_total',
    help: 'Ejection hints: published by this node, received from others, applied here (server probed and held out), ignored.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      for (const result of hintResults) this.inc({ result }, stats.hints[result]);
    },
  });
  const claimResults = ['won', 'lost', 'unclaimed'] as const;
  new Counter({
    name: 'gatewise_alert_claims_total',
    help: 'Alert transitions by de-duplication outcome: won (sent by this node), lost (sent by another), unclaimed (sent without a claim: Redis unreachable).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      for (const result of claimResults) this.inc({ result }, stats.alerts[result]);
    },
  });
}
