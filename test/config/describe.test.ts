import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { test } from 'node:test';
import {
  type Config,
  describeConfig,
  parseConfigText,
  parseDuration,
  parsePercent,
  parseSize,
  parseStatusRange,
} from '../../src/config/index.js';

const rows = describeConfig();

test('every key of the schema is described, once', () => {
  assert.ok(rows.length > 80, `only ${rows.length} rows`);
  const keys = rows.map((row) => row.key);
  assert.equal(new Set(keys).size, keys.length, 'keys are unique');
  for (const row of rows) {
    assert.ok(row.description.length > 5, `${row.key} has a description`);
    assert.ok(row.type.length > 0, `${row.key} has a type`);
  }
  for (const key of [
    'listen[].address',
    'listen[].tls.cert',
    'admin.token',
    'limits.headers_timeout',
    'trust_proxies',
    'upstreams.<name>.servers[].url',
    'upstreams.<name>.retries.attempts',
    'upstreams.<name>.health.active.interval',
    'upstreams.<name>.health.passive.eject_for',
    'routes[].match.host',
    'routes[].request_headers.set',
    'upstreams.<name>.health.active.expect_status',
    'upstreams.<name>.health.active.expect_json.path',
    'upstreams.<name>.health.passive.latency.p99_above',
    'upstreams.<name>.health.panic_threshold',
    'upstreams.<name>.retries.backoff.max',
    'upstreams.<name>.retries.budget.min_per_second',
    'upstreams.<name>.breaker.half_open_requests',
    'upstreams.<name>.limits.retry_after',
    'upstreams.<name>.slow_start',
    'upstreams.<name>.dns.refresh',
    'routes[].rate_limit.burst',
  ]) {
    assert.ok(keys.includes(key), key);
  }
});

test('types and required keys are named as the reference shows them', () => {
  const row = (key: string) => rows.find((candidate) => candidate.key === key)!;
  assert.equal(row('listen[].address').type, 'host:port');
  assert.equal(row('limits.headers_timeout').type, 'duration');
  assert.equal(row('limits.max_header_bytes').type, 'size');
  assert.equal(row('upstreams.<name>.servers[].weight').type, 'integer 1..1000');
  assert.equal(row('upstreams.<name>.retries.attempts').type, 'integer >= 1');
  assert.equal(row('upstreams.<name>.balance').type, 'round_robin | least_conn | random_two | ip_hash | header_hash');
  assert.equal(row('trust_proxies').type, 'list of CIDR');
  assert.equal(row('routes[].match.methods').type, 'list of method');
  assert.equal(row('upstreams.<name>.health.active.jitter').type, 'percentage 0..50%');
  assert.equal(row('upstreams.<name>.breaker.failure_ratio').type, 'percentage > 0, <= 100%');
  assert.equal(row('upstreams.<name>.health.active.expect_status').type, 'list of status or "min-max"');
  assert.equal(row('upstreams.<name>.health.active.type').type, 'http | tcp');
  assert.equal(row('upstreams.<name>.health.passive.statuses').type, 'list of status 500..599');
  assert.equal(
    row('upstreams.<name>.retries.on').type,
    'list of connect_failure | refused | reset | timeout | tls | protocol | 500..599',
  );
  assert.equal(row('upstreams.<name>.health.active.port').type, 'integer 0..65535');
  assert.equal(row('upstreams.<name>.breaker').type, 'map');
  assert.equal(row('upstreams.<name>.breaker').required, false);
  assert.equal(row('routes[].rate_limit').required, false);
  const required = rows.filter((candidate) => candidate.required).map((candidate) => candidate.key);
  assert.deepEqual(required.sort(), [
    'alerts.notifiers[].type',
    'alerts.notifiers[].url',
    'alerts.rules[].error_ratio.above',
    'alerts.rules[].name',
    'cluster.etcd.endpoints',
    'cluster.redis.url',
    'listen',
    'listen[].address',
    'listen[].tls.cert',
    'listen[].tls.key',
    'routes',
    'routes[].upstream',
    'upstreams',
    'upstreams.<name>.discover.srv',
    'upstreams.<name>.servers[].run.command',
    'upstreams.<name>.servers[].url',
  ]);
});

// A config that writes nothing optional except the sections whose defaults apply only when present.
const MINIMAL = `
listen:
  - address: 127.0.0.1:8080
upstreams:
  api:
    servers:
      - url: https://127.0.0.1:5001
        tls: {}
        run: { command: app }
    discover: { srv: _http._tcp.api.test }
    tls: {}
    health: { active: { expect_json: {} }, passive: { latency: {} } }
    breaker: {}
routes:
  - upstream: api
    rate_limit: {}
alerts:
  rules:
    - { name: Errors, error_ratio: { above: 5% } }
    - { name: Slow, latency: {} }
    - { name: Full, queue_saturation: {} }
    - { name: Loop, restart_loop: {} }
  notifiers: [{ type: webhook, url: "http://127.0.0.1:9/" }]
cluster:
  etcd: { endpoints: [http://127.0.0.1:2379] }
  redis: { url: redis://127.0.0.1:6379 }
`;

/** A rule holds one condition: the keys of each condition are read from the rule that has it. */
const RULE_OF: Record<string, number> = { latency: 1, queue_saturation: 2, restart_loop: 3 };

/** Percentages these keys keep as a fraction (50% -> 0.5); the others keep the percentage itself. */
const FRACTIONS = new Set([
  'upstreams.<name>.health.active.jitter',
  'upstreams.<name>.health.panic_threshold',
  'upstreams.<name>.breaker.failure_ratio',
  'alerts.rules[].latency.quantile',
  'alerts.rules[].queue_saturation.above',
]);

function valueAt(config: Config, key: string): unknown {
  let node: unknown = config;
  const rule = RULE_OF[/^alerts\.rules\[\]\.(\w+)/.exec(key)?.[1] ?? ''] ?? 0;
  const path = key.replace('alerts.rules[]', `alerts.rules.${rule}`).replace(/\[\]/g, '.0').replace('<name>', 'api');
  for (const part of path.split('.')) {
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

test('the documented defaults are the defaults applied', () => {
  const config = parseConfigText(MINIMAL, 'minimal.yaml', {});
  const withDefaults = rows.filter((row) => 'default' in row);
  assert.ok(withDefaults.length > 50);
  for (const row of withDefaults) {
    // Lists MINIMAL writes to reach the defaults inside their items.
    if (row.key === 'alerts.rules' || row.key === 'alerts.notifiers' || row.key === 'upstreams.<name>.servers')
      continue;
    let expected = row.default;
    if (row.type === 'duration') expected = parseDuration(String(row.default));
    if (row.type === 'size') expected = parseSize(String(row.default));
    if (row.type.startsWith('percentage')) {
      expected = parsePercent(row.default) / (FRACTIONS.has(row.key) ? 100 : 1);
    }
    if (row.type === 'list of status or "min-max"') expected = (row.default as unknown[]).map(parseStatusRange);
    // File paths are made absolute against the config file's directory.
    if (row.type === 'file') expected = resolve(String(row.default));
    assert.deepEqual(valueAt(config, row.key), expected, row.key);
  }
});
