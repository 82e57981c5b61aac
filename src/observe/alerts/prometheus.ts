/**
 * The alert rules as a Prometheus alerting-rules file, for teams that alert from Prometheus: each
 * condition becomes the PromQL over the metrics Gatewise exposes at /metrics that computes the same
 * value the engine computes (rates as increases of the same counters over the same window, states
 * from the same gauges), with the same `for`, `keep_firing_for`, labels and annotations.
 */
import { stringify } from 'yaml';
import type { AlertRuleConfig } from '../../config/alerts.js';
import { type Config, formatDuration } from '../../config/index.js';
import { effectiveRules, latencyLimitMs } from './rules.js';

interface PromRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A label matcher list: `{a="b",c!=""}`. */
function selector(matchers: ReadonlyArray<[string, string, string]>): string {
  return `{${matchers.map(([label, op, value]) => `${label}${op}${JSON.stringify(value)}`).join(',')}}`;
}

/** Our durations (`1h30m`, `2s500ms`) are written the way PromQL reads them too. */
function promDuration(ms: number): string {
  return ms === 0 ? '0s' : formatDuration(ms);
}

function number(n: number): string {
  return String(Number(n.toPrecision(6)));
}

function exprOf(rule: AlertRuleConfig, upstream: string | undefined, config: Config): string {
  const scope: Array<[string, string, string]> = upstream ? [['upstream', '=', upstream]] : [['upstream', '!=', '']];
  if (rule.error_ratio !== undefined) {
    const r = rule.error_ratio;
    const w = promDuration(r.window);
    const all = `sum by (upstream) (increase(gatewise_requests_total${selector(scope)}[${w}]))`;
    const counted =
      r.error_type !== undefined
        ? `sum by (upstream) (increase(gatewise_upstream_failures_total${selector([...scope, ['error_type', '=', r.error_type]])}[${w}]))`
        : r.cause !== undefined
          ? `sum by (upstream) (increase(gatewise_upstream_failures_total${selector([...scope, ['cause', '=', r.cause]])}[${w}]))`
          : `sum by (upstream) (increase(gatewise_requests_total${selector([...scope, ['code_class', '=', r.status_class ?? '5xx']])}[${w}]))`;
    return `(${counted} / ${all}) > ${number(r.above)} and ${all} >= ${r.min_requests}`;
  }
  if (rule.latency !== undefined) {
    const l = rule.latency;
    const w = promDuration(l.window);
    const metric =
      l.measure === 'head' ? 'gatewise_upstream_response_head_duration_seconds' : 'gatewise_request_duration_seconds';
    const readTimeout = upstream === undefined ? 0 : (config.upstreams[upstream]?.timeouts.read ?? 0);
    const limit = latencyLimitMs(rule, readTimeout) / 1000;
    return (
      `histogram_quantile(${number(l.quantile)}, sum by (upstream, le) (rate(${metric}_bucket${selector(scope)}[${w}]))) > ${number(limit)}` +
      ` and sum by (upstream) (increase(${metric}_count${selector(scope)}[${w}])) >= ${l.min_requests}`
    );
  }
  if (rule.upstream_unavailable !== undefined)
    return `sum by (upstream) (gatewise_server_available${selector(scope)}) == 0`;
  if (rule.breaker_open !== undefined) return `gatewise_server_breaker_open${selector(scope)} == 1`;
  if (rule.restart_loop !== undefined) {
    const r = rule.restart_loop;
    return (
      `increase(gatewise_managed_restarts_total${selector(scope)}[${promDuration(r.window)}]) >= ${r.restarts}` +
      ` or gatewise_managed_failed${selector(scope)} == 1`
    );
  }
  if (rule.server_unhealthy !== undefined)
    return `gatewise_server_healthy${selector(scope)} == 0 or gatewise_server_ejected${selector(scope)} == 1`;
  const q = rule.queue_saturation!;
  return (
    `(gatewise_upstream_inflight${selector(scope)} + gatewise_upstream_queue_depth${selector(scope)})` +
    ` / gatewise_upstream_admission_capacity${selector(scope)} > ${number(q.above)}`
  );
}

/** `split`: one of several rules made from one per upstream; its label keeps them apart for promtool. */
function promRule(rule: AlertRuleConfig, upstream: string | undefined, config: Config, split = false): PromRule {
  return {
    alert: rule.name,
    expr: exprOf(rule, upstream, config),
    ...(rule.for > 0 ? { for: promDuration(rule.for) } : {}),
    ...(rule.keep_firing_for > 0 ? { keep_firing_for: promDuration(rule.keep_firing_for) } : {}),
    labels: { severity: rule.severity, ...rule.labels, ...(split && upstream ? { upstream } : {}) },
    annotations: { ...rule.annotations },
  };
}

/**
 * The rules file text. A latency rule without `above` has a limit per upstream (80% of its read
 * timeout), so it becomes one Prometheus rule per upstream.
 */
export function prometheusRules(config: Config): string {
  const rules: PromRule[] = [];
  for (const rule of effectiveRules(config.alerts)) {
    if (rule.latency !== undefined && rule.latency.above === undefined && rule.upstream === undefined) {
      for (const upstream of Object.keys(config.upstreams)) rules.push(promRule(rule, upstream, config, true));
    } else rules.push(promRule(rule, rule.upstream, config));
  }
  const header =
    "# Prometheus alerting rules equivalent to this Gatewise configuration's alerts.\n" +
    '# Generated by `gatewise alerts export --prometheus`; load it with rule_files in prometheus.yml.\n';
  return header + stringify({ groups: [{ name: 'gatewise', rules }] }, { lineWidth: 0 });
}
