import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { type Config, checkConfigText, parseConfigText } from '../../../src/config/index.js';
import { formatProblem } from '../../../src/errors.js';
import {
  DEFAULT_RULES,
  effectiveRules,
  expandTemplate,
  fingerprint,
  histogramQuantile,
  humanize,
  humanizeDuration,
  prometheusRules,
} from '../../../src/observe/alerts/index.js';
import { runCli } from '../../support/cli.js';

const BASE = `listen: [{ address: 127.0.0.1:8080 }]
upstreams:
  api: { servers: [{ url: http://127.0.0.1:5001 }], timeouts: { read: 10s } }
  web: { servers: [{ url: http://127.0.0.1:5002 }], limits: { max_inflight: 8, queue: 2 } }
routes: [{ match: { path: / }, upstream: api }]
`;

function configWith(alerts: string): Config {
  return parseConfigText(`${BASE}${alerts}`, 'alerts.yaml');
}

function problemsOf(alerts: string): string[] {
  return checkConfigText(`${BASE}${alerts}`, 'alerts.yaml', {}).problems.map(formatProblem);
}

test('histogramQuantile interpolates within the bucket like Prometheus', () => {
  const bounds = [0.1, 0.5, 1];
  // 10 in (0, 0.1], 10 in (0.1, 0.5], none above.
  assert.equal(histogramQuantile(0.5, bounds, [10, 10, 0, 0]), 0.1);
  assert.ok(Math.abs(histogramQuantile(0.75, bounds, [10, 10, 0, 0]) - 0.3) < 1e-12);
  assert.equal(histogramQuantile(0.25, bounds, [10, 10, 0, 0]), 0.05);
  // A rank in the overflow bucket reads as the last finite bound.
  assert.equal(histogramQuantile(0.99, bounds, [1, 0, 0, 9]), 1);
});

test('templates: labels, value and the humanize pipes; anything else stays as written', () => {
  const labels = { upstream: 'api', server: '10.0.0.1:80' };
  assert.equal(expandTemplate('{{ $labels.upstream }}/{{$labels.server}}', labels, 1), 'api/10.0.0.1:80');
  assert.equal(expandTemplate('{{ $value | humanizePercentage }}', labels, 0.0525), '5.25%');
  assert.equal(expandTemplate('{{ $value | humanizeDuration }}', labels, 0.25), '250ms');
  assert.equal(expandTemplate('{{ $value | humanizeDuration }}', labels, 3725), '1h 2m 5s');
  assert.equal(expandTemplate('{{ $value }}', labels, 0.5), '0.5');
  assert.equal(expandTemplate('{{ $labels.missing }}!', labels, 0), '!');
  assert.equal(
    expandTemplate('{{ .Labels.x }} {{ $value | printf "%.2f" }}', labels, 1),
    '{{ .Labels.x }} {{ $value | printf "%.2f" }}',
  );
  assert.equal(humanize(1234567), '1.235M');
  assert.equal(humanize(0.000123), '123µ');
  assert.equal(humanizeDuration(0), '0s');
});

test('fingerprints do not depend on label order and differ between label sets', () => {
  assert.equal(fingerprint({ a: '1', b: '2' }), fingerprint({ b: '2', a: '1' }));
  assert.notEqual(fingerprint({ a: '1', b: '2' }), fingerprint({ a: '1', b: '3' }));
  assert.notEqual(fingerprint({ a: '1b', b: '' }), fingerprint({ a: '1', b: 'b' }));
});

test('the default rules apply unless switched off; a configured rule of the same name replaces one', () => {
  const defaults = effectiveRules(configWith('').alerts);
  assert.deepEqual(
    defaults.map((r) => r.name),
    DEFAULT_RULES.map((r) => r.name),
  );
  assert.ok(defaults.length >= 6);
  const replaced = effectiveRules(
    configWith(`alerts:
  rules: [{ name: GatewiseServerUnhealthy, server_unhealthy: {}, for: 5m, severity: critical }]
`).alerts,
  );
  assert.equal(replaced.length, defaults.length);
  const rule = replaced.find((r) => r.name === 'GatewiseServerUnhealthy')!;
  assert.equal(rule.for, 300_000);
  assert.equal(rule.severity, 'critical');
  assert.deepEqual(effectiveRules(configWith('alerts: { default_rules: false }').alerts), []);
});

test('alert config: defaults, units and a condition without options written bare', () => {
  const config = configWith(`alerts:
  evaluate_every: 1s
  rules:
    - name: Errors
      error_ratio: { error_type: connection_refused, above: 2.5% }
    - name: Down
      upstream: web
      upstream_unavailable:
  notifiers: [{ type: alertmanager, url: "http://am:9093" }]
`);
  const [errors, down] = config.alerts.rules;
  assert.deepEqual(errors!.error_ratio, {
    error_type: 'connection_refused',
    above: 0.025,
    window: 300_000,
    min_requests: 20,
  });
  assert.equal(errors!.severity, 'warning');
  assert.equal(errors!.for, 0);
  assert.equal(down!.upstream_unavailable, null);
  assert.equal(config.alerts.evaluate_every, 1000);
  const notifier = config.alerts.notifiers[0]!;
  assert.equal(notifier.url, 'http://am:9093/');
  assert.deepEqual(notifier.retries, { attempts: 5, backoff: 1000, max_backoff: 30_000 });
  assert.equal(notifier.send_resolved, true);
});

test('alert config problems name file:line:col', () => {
  assert.deepEqual(
    problemsOf(`alerts:
  rules:
    - name: NoCondition
    - name: Two
      breaker_open: {}
      server_unhealthy: {}
    - name: Elsewhere
      upstream: apj
      breaker_open: {}
    - name: Counts
      error_ratio: { status_class: 5xx, cause: dns, above: 5% }
    - name: 1bad
      breaker_open: {}
  notifiers:
    - { name: ops, type: slack, url: "https://hooks.example/x" }
    - { name: ops, type: pager, url: "ftp://x" }
`),
    [
      'alerts.yaml:8:7: an alert rule needs one condition: error_ratio, latency, server_unhealthy, upstream_unavailable, breaker_open, queue_saturation, restart_loop',
      'alerts.yaml:10:7: an alert rule has one condition; this one also has server_unhealthy',
      'alerts.yaml:13:17: unknown upstream "apj" (did you mean "api"?)',
      'alerts.yaml:16:41: error_ratio counts one of status_class, error_type or cause; this one also has status_class',
      'alerts.yaml:17:13: bad alert name "1bad" (letters, digits and "_", not starting with a digit)',
      'alerts.yaml:21:15: duplicate notifier name "ops" (also on line 20)',
      'alerts.yaml:21:26: expected one of webhook, alertmanager, slack; got "pager"',
      'alerts.yaml:21:38: expected an http:// or https:// URL, got "ftp://x"',
    ],
  );
});

test('the Prometheus export carries each rule with PromQL over the exposed metrics', () => {
  const config = configWith(`alerts:
  rules:
    - name: RefusedSpike
      upstream: api
      error_ratio: { error_type: connection_refused, above: 1%, window: 1m, min_requests: 5 }
      for: 30s
      labels: { team: core }
      annotations: { summary: "refused {{ $value | humanizePercentage }}" }
`);
  const file = parse(prometheusRules(config)) as {
    groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
  };
  const rules = file.groups[0]!.rules;
  const refused = rules.find((r) => r.alert === 'RefusedSpike')!;
  assert.equal(
    refused.expr,
    '(sum by (upstream) (increase(gatewise_upstream_failures_total{upstream="api",error_type="connection_refused"}[1m])) / ' +
      'sum by (upstream) (increase(gatewise_requests_total{upstream="api"}[1m]))) > 0.01 and ' +
      'sum by (upstream) (increase(gatewise_requests_total{upstream="api"}[1m])) >= 5',
  );
  assert.equal(refused.for, '30s');
  assert.deepEqual(refused.labels, { severity: 'warning', team: 'core' });
  assert.deepEqual(refused.annotations, { summary: 'refused {{ $value | humanizePercentage }}' });
  // The default latency rule's limit is 80% of each upstream's read timeout: one rule per upstream.
  const slow = rules.filter((r) => r.alert === 'GatewiseUpstreamSlow');
  assert.equal(slow.length, 2);
  assert.match(String(slow[0]!.expr), /\{upstream="api"\}\[5m\]\)\)\) > 8 and/);
  assert.match(String(slow[1]!.expr), /\{upstream="web"\}\[5m\]\)\)\) > 48 and/);
  assert.equal(rules.find((r) => r.alert === 'GatewiseBreakerOpen')!.keep_firing_for, '2m');
});

test('`gatewise alerts export --prometheus` writes a file promtool accepts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-rules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'gatewise.yaml');
  writeFileSync(
    configFile,
    `${BASE}alerts:
  rules:
    - { name: Slow, latency: { above: 1500ms, quantile: 95%, measure: total, window: 2m } }
    - { name: Queue, queue_saturation: { above: 75% }, for: 1m30s }
    - { name: Tls, error_ratio: { cause: tls_mismatch, above: 1% } }
`,
  );
  const out = join(dir, 'rules.yml');
  const result = await runCli(['alerts', 'export', '--prometheus', '--config', configFile, '--output', out]);
  assert.equal(result.code, 0, result.stderr);
  const check = spawnSync('promtool', ['check', 'rules', out], { encoding: 'utf8' });
  assert.equal(check.error, undefined, 'promtool (Debian package prometheus) must be installed');
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  assert.match(`${check.stdout}${check.stderr}`, /SUCCESS: 11 rules found/);
});

test('a duration below its key minimum names the minimum', () => {
  assert.deepEqual(
    problemsOf(`alerts:
  evaluate_every: 5ms
  rules: [{ name: X, error_ratio: { above: 5%, window: 10ms } }]
`),
    [
      'alerts.yaml:7:19: expected a duration of at least 10ms, got "5ms"',
      'alerts.yaml:8:56: expected a duration of at least 1s, got "10ms"',
    ],
  );
});
