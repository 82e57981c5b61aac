import { z } from 'zod';
import { ERROR_TYPES, ROOT_CAUSES } from '../diagnose/taxonomy.js';
import { GatewayError } from '../errors.js';
import {
  duration,
  expected,
  flag,
  headerValue,
  integer,
  oneOf,
  parsedValue,
  settableHeaderName,
  text,
} from './fields.js';
import { fraction } from './resilience-fields.js';

/**
 * Alert rules and the notifiers that receive their transitions. A rule holds exactly one condition
 * (one of the keys `error_ratio`, `latency`, `server_unhealthy`, `upstream_unavailable`,
 * `breaker_open`, `queue_saturation`, `restart_loop`); the rest is Prometheus' alerting-rule vocabulary (`for`,
 * `keep_firing_for`, labels, annotations with `{{ $labels.x }}` and `{{ $value }}`), so that
 * `gatewise alerts export --prometheus` can write the same rules for Prometheus.
 */

export const severities = ['critical', 'warning', 'info'] as const;
export const notifierTypes = ['webhook', 'alertmanager', 'slack'] as const;
export const latencyMeasures = ['head', 'total'] as const;
export const statusClasses = ['4xx', '5xx'] as const;

const errorTypeNames = Object.keys(ERROR_TYPES) as [string, ...string[]];
const causeNames = Object.keys(ROOT_CAUSES) as [string, ...string[]];

/** Prometheus' own rule for alert and label names. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const name = (what: string) =>
  z.string({ error: expected(what) }).regex(NAME, {
    error: (issue) => `bad ${what} ${JSON.stringify(issue.input)} (letters, digits and "_", not starting with a digit)`,
  });

const httpUrl = () =>
  parsedValue('URL', (value) => {
    if (typeof value !== 'string')
      throw new GatewayError('GW_CONFIG_URL', `expected an http(s) URL, got ${JSON.stringify(value)}`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new GatewayError('GW_CONFIG_URL', `expected an http(s) URL, got ${JSON.stringify(value)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new GatewayError('GW_CONFIG_URL', `expected an http:// or https:// URL, got ${JSON.stringify(value)}`);
    return url.href;
  });

export const errorRatioSchema = z.strictObject({
  status_class: oneOf(statusClasses)
    .optional()
    .describe('Count answered requests of this status class (the default, 5xx, when no other measure is set).'),
  error_type: oneOf(errorTypeNames)
    .optional()
    .describe('Count failed upstream tries of this RFC 9209 error type instead.'),
  cause: oneOf(causeNames).optional().describe('Count failed upstream tries with this root cause instead.'),
  above: fraction(100, { aboveZero: true }).describe('Fire when the share of requests counted is above this.'),
  window: duration(1000).prefault('5m').describe('The share is measured over this trailing window.'),
  min_requests: integer(1).prefault(20).describe('Requests the window must hold before the share means anything.'),
});

export const latencyRuleSchema = z.strictObject({
  quantile: fraction(100, { aboveZero: true }).prefault('99%').describe('Which quantile (99% = p99).'),
  above: duration()
    .optional()
    .describe("Fire when the quantile is above this; omitted = 80% of the upstream's read timeout."),
  measure: oneOf(latencyMeasures)
    .prefault('head')
    .describe('head: time to the upstream response head (first byte); total: whole request, body included.'),
  window: duration(1000).prefault('5m').describe('The quantile is measured over this trailing window.'),
  min_requests: integer(1).prefault(20).describe('Requests the window must hold before the quantile means anything.'),
});

export const queueSaturationSchema = z.strictObject({
  above: fraction(100, { aboveZero: true })
    .prefault('90%')
    .describe('Fire when (in flight + queued) / (max_inflight + queue) is above this; only for limited upstreams.'),
});

/** A condition without options, written `server_unhealthy: {}` or just `server_unhealthy:`. */
export const restartLoopSchema = z.strictObject({
  restarts: integer(1)
    .prefault(3)
    .describe('Fire at this many automatic restarts within window, or when restarting gave up.'),
  window: duration(1000).prefault('5m').describe('The window restarts are counted over.'),
});

const noOptions = (what: string) => z.strictObject({}).nullish().describe(what);

export const alertRuleSchema = z.strictObject({
  name: name('alert name').describe('Alert name (the `alertname` label), like a Prometheus alerting rule.'),
  upstream: text().optional().describe('Watch only this upstream; omitted = each upstream on its own.'),
  error_ratio: errorRatioSchema
    .optional()
    .describe('Condition: share of requests that failed (by status class, error type or cause).'),
  latency: latencyRuleSchema.optional().describe('Condition: a latency quantile over a limit.'),
  server_unhealthy: noOptions('Condition: a server fails its active checks or is ejected by passive health.'),
  upstream_unavailable: noOptions('Condition: no server of the upstream may take requests.'),
  breaker_open: noOptions("Condition: a server's circuit breaker is open."),
  queue_saturation: queueSaturationSchema.optional().describe('Condition: admission slots and queue nearly full.'),
  restart_loop: restartLoopSchema
    .optional()
    .describe('Condition: a managed server restarts again and again, or its crash loop made Gatewise give up.'),
  for: duration(0).prefault('0s').describe('How long the condition must hold (pending) before the alert fires.'),
  keep_firing_for: duration(0)
    .prefault('0s')
    .describe('How long a firing alert stays firing after the condition clears (against flapping).'),
  severity: oneOf(severities).prefault('warning').describe('The `severity` label.'),
  labels: z.record(name('label name'), text()).prefault({}).describe('Extra labels on the alert.'),
  annotations: z
    .record(name('annotation name'), text())
    .prefault({})
    .describe(
      'Annotations (summary, description, runbook_url...); `{{ $labels.upstream }}` and `{{ $value }}` expand.',
    ),
});

export const notifierRetriesSchema = z.strictObject({
  attempts: integer(1, 20).prefault(5).describe('Deliveries tried in all before a notification is given up.'),
  backoff: duration().prefault('1s').describe('Wait before the first retry; doubled after each failure.'),
  max_backoff: duration().prefault('30s').describe('Longest wait between two tries.'),
});

export const notifierSchema = z.strictObject({
  name: name('notifier name').optional().describe('Name in logs and metrics; default `<type>_<position>`.'),
  type: oneOf(notifierTypes).describe(
    'webhook: Alertmanager-style JSON webhook; alertmanager: its v2 API (POST /api/v2/alerts); slack: incoming webhook.',
  ),
  url: httpUrl().describe('Where to POST; for alertmanager its base URL (http://alertmanager:9093).'),
  headers: z
    .record(settableHeaderName(), headerValue())
    .prefault({})
    .describe('Extra request headers (Authorization...).'),
  timeout: duration().prefault('5s').describe('A delivery without a response in this time fails (and is retried).'),
  send_resolved: flag().prefault(true).describe('Also notify when an alert resolves.'),
  repeat_every: duration(1000)
    .prefault('1m')
    .describe('alertmanager only: firing alerts are sent again this often, as Prometheus does.'),
  retries: notifierRetriesSchema.prefault({}).describe('Retries with exponential backoff.'),
});

export const alertsSchema = z.strictObject({
  default_rules: flag().prefault(true).describe('Include the built-in rules (a rule of the same name replaces one).'),
  evaluate_every: duration(10).prefault('5s').describe('How often rules are evaluated.'),
  rules: z.array(alertRuleSchema).prefault([]).describe('Alert rules.'),
  notifiers: z.array(notifierSchema).prefault([]).describe('Where alert transitions are sent.'),
});

export type AlertsConfig = z.infer<typeof alertsSchema>;
export type AlertRuleConfig = z.infer<typeof alertRuleSchema>;
export type NotifierConfig = z.infer<typeof notifierSchema>;
export type Severity = (typeof severities)[number];
export type NotifierType = (typeof notifierTypes)[number];

/** The condition keys of a rule; exactly one is set. */
export const conditionKeys = [
  'error_ratio',
  'latency',
  'server_unhealthy',
  'upstream_unavailable',
  'breaker_open',
  'queue_saturation',
  'restart_loop',
] as const;
