import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  type ActiveHealthConfig,
  type BreakerConfig,
  type Config,
  checkConfigText,
  type DnsConfig,
  type ExpectJsonConfig,
  type LatencyEjectionConfig,
  type LimitsUpstreamConfig,
  type PassiveHealthConfig,
  parseConfigText,
  type RateLimitConfig,
  type RetriesConfig,
  type RetryOn,
  retryFailureNames,
} from '../../src/config/index.js';
import { formatProblem } from '../../src/errors.js';

// The running code reads these shapes; a change to any of them fails the build, not only this file.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const shapes: [
  Equal<ActiveHealthConfig['expect_status'], Array<{ min: number; max: number }>>,
  Equal<ActiveHealthConfig['type'], 'http' | 'tcp'>,
  Equal<ActiveHealthConfig['initial'], 'healthy' | 'unhealthy'>,
  Equal<ActiveHealthConfig['headers'], Record<string, string>>,
  Equal<ActiveHealthConfig['expect_json'], ExpectJsonConfig | undefined>,
  Equal<ExpectJsonConfig, { path: string; equals: string }>,
  Equal<PassiveHealthConfig['latency'], LatencyEjectionConfig | undefined>,
  Equal<LatencyEjectionConfig, { p99_above: number; min_requests: number; window: number }>,
  Equal<RetriesConfig['on'], RetryOn[]>,
  Equal<RetryOn, (typeof retryFailureNames)[number] | number>,
  Equal<RetriesConfig['budget'], { percent: number; min_per_second: number }>,
  Equal<
    BreakerConfig,
    {
      failure_ratio: number;
      min_requests: number;
      window: number;
      consecutive_failures: number;
      open_for: number;
      max_open_for: number;
      half_open_requests: number;
    }
  >,
  Equal<
    LimitsUpstreamConfig,
    {
      max_inflight: number;
      max_connections_per_server: number;
      queue: number;
      queue_timeout: number;
      retry_after: number;
    }
  >,
  Equal<DnsConfig, { refresh: number }>,
  Equal<RateLimitConfig, { rate: number; per: number; burst: number; scope?: 'local' | 'cluster' | undefined }>,
  Equal<Config['upstreams'][string]['breaker'], BreakerConfig | undefined>,
  Equal<Config['routes'][number]['rate_limit'], RateLimitConfig | undefined>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];

test('the exported types have the documented shapes', () => {
  assert.equal(shapes.length, 17);
  assert.deepEqual(retryFailureNames, ['connect_failure', 'refused', 'reset', 'timeout', 'tls', 'protocol']);
});

function configWith(upstream: string, route = ''): string {
  return `listen: [ { address: "127.0.0.1:8080" } ]
upstreams:
  api:
    servers: [ { url: "http://127.0.0.1:5001" } ]
${upstream
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
routes:
  - upstream: api
${route
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;
}

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  return checkConfigText(text, 'inline.yaml', env).problems.map(formatProblem);
}

test('a minimal config: every resilience default, optional sections only when written', () => {
  const bare = parseConfigText(configWith(''), 'inline.yaml', {});
  const upstream = bare.upstreams['api']!;
  assert.equal(upstream.health.active, undefined);
  assert.equal(upstream.health.passive.latency, undefined);
  assert.equal(upstream.breaker, undefined);
  assert.equal(bare.routes[0]?.rate_limit, undefined);
  assert.deepEqual(upstream.retries, {
    attempts: 2,
    on: ['connect_failure', 'refused', 'reset', 'timeout', 502, 503, 504],
    per_try_timeout: 0,
    deadline: 0,
    backoff: { base: 25, max: 250 },
    body_limit: 65_536,
    budget: { percent: 20, min_per_second: 3 },
  });
  assert.deepEqual(upstream.health, {
    passive: {
      failures: 3,
      window: 10_000,
      eject_for: 30_000,
      max_eject_for: 300_000,
      max_ejected_percent: 50,
      statuses: [502, 503, 504],
    },
    panic_threshold: 0.5,
  });
  assert.deepEqual(upstream.limits, {
    max_inflight: 0,
    max_connections_per_server: 0,
    queue: 0,
    queue_timeout: 1000,
    retry_after: 1000,
  });
  assert.equal(upstream.slow_start, 0);
  assert.deepEqual(upstream.dns, { refresh: 30_000 });

  const sections = parseConfigText(
    configWith('health: { active: { expect_json: {} }, passive: { latency: {} } }\nbreaker: {}', 'rate_limit: {}'),
    'inline.yaml',
    {},
  );
  const written = sections.upstreams['api']!;
  assert.deepEqual(written.health.active, {
    type: 'http',
    path: '/health',
    method: 'GET',
    headers: {},
    interval: 2000,
    timeout: 1000,
    healthy_after: 2,
    unhealthy_after: 2,
    expect_status: [{ min: 200, max: 399 }],
    expect_body: '',
    expect_json: { path: '', equals: '' },
    jitter: 0.1,
    initial: 'healthy',
    port: 0,
  });
  assert.deepEqual(written.health.passive.latency, { p99_above: 2000, min_requests: 20, window: 30_000 });
  assert.deepEqual(written.breaker, {
    failure_ratio: 0.5,
    min_requests: 20,
    window: 10_000,
    consecutive_failures: 5,
    open_for: 5000,
    max_open_for: 60_000,
    half_open_requests: 3,
  });
  assert.deepEqual(sections.routes[0]?.rate_limit, { rate: 100, per: 1000, burst: 0 });
});

test('percentages accept "50%" or a number 0-100, and keep fractions or percentages as the key says', () => {
  const cases: Array<[string, number, number]> = [
    ['50%', 0.5, 50],
    ['50', 0.5, 50],
    ['"50"', 0.5, 50],
    ['12.5%', 0.125, 12.5],
    ['0', 0, 0],
    ['1', 0.01, 1],
    ['100', 1, 100],
    ['"100 %"', 1, 100],
  ];
  for (const [written, fraction, percent] of cases) {
    const config = parseConfigText(
      configWith(
        `health: { panic_threshold: ${written}, passive: { max_ejected_percent: ${written} } }\nretries: { budget: { percent: ${written} } }`,
      ),
      'inline.yaml',
      {},
    );
    const upstream = config.upstreams['api']!;
    assert.equal(upstream.health.panic_threshold, fraction, written);
    assert.equal(upstream.health.passive.max_ejected_percent, percent, written);
    assert.equal(upstream.retries.budget.percent, percent, written);
  }
});

/** `${NAME}`, written so that the test text itself holds no template-like literal. */
const ref = (name: string) => `\${${name}}`;

test('resilience values come from environment variables like any other value', () => {
  const text = configWith(
    [
      'health:',
      `  active: { jitter: "${ref('GW_JITTER')}", port: "${ref('GW_PORT')}", expect_status: ["${ref('GW_STATUS')}"] }`,
      `  passive: { statuses: ["${ref('GW_5XX')}"], max_ejected_percent: "${ref('GW_PERCENT')}" }`,
      `retries: { on: [reset, "${ref('GW_5XX')}"] }`,
      `limits: { max_inflight: "${ref('GW_INFLIGHT')}", queue: "${ref('GW_QUEUE')}" }`,
    ].join('\n'),
  );
  const env = {
    GW_JITTER: '20%',
    GW_PORT: '9000',
    GW_STATUS: '200-204',
    GW_5XX: '503',
    GW_PERCENT: '30',
    GW_INFLIGHT: '8',
    GW_QUEUE: '4',
  };
  const upstream = parseConfigText(text, 'inline.yaml', env).upstreams['api']!;
  assert.equal(upstream.health.active?.jitter, 0.2);
  assert.equal(upstream.health.active?.port, 9000);
  assert.deepEqual(upstream.health.active?.expect_status, [{ min: 200, max: 204 }]);
  assert.deepEqual(upstream.health.passive.statuses, [503]);
  assert.equal(upstream.health.passive.max_ejected_percent, 30);
  assert.deepEqual(upstream.retries.on, ['reset', 503]);
  assert.deepEqual([upstream.limits.max_inflight, upstream.limits.queue], [8, 4]);
  // The cross-check reads the expanded values too: an environment without a limit makes the queue a problem.
  assert.deepEqual(problemsOf(text, { ...env, GW_INFLIGHT: '0' }), [
    'inline.yaml:9:54: queue needs max_inflight > 0 (requests wait only when max_inflight is reached)',
  ]);
});

test('a cross-check stays quiet about a value its field already rejects', () => {
  assert.deepEqual(problemsOf(configWith('retries: { backoff: { base: fast, max: 10ms } }')), [
    'inline.yaml:5:33: expected a duration like "2s", got "fast"',
  ]);
  assert.deepEqual(problemsOf(configWith('limits: { max_inflight: -1, queue: 5 }')), [
    'inline.yaml:5:29: expected an integer >= 0, got -1',
  ]);
  assert.deepEqual(problemsOf(configWith('health: { active: { type: tpc, path: /x } }')), [
    'inline.yaml:5:31: expected one of http, tcp; got "tpc" (did you mean "tcp"?)',
  ]);
});

test('a key written with its default value still counts as written', () => {
  assert.deepEqual(problemsOf(configWith('health: { active: { type: tcp, path: /health } }')), [
    'inline.yaml:5:36: path does not apply to type tcp (tcp checks only connect)',
  ]);
  assert.deepEqual(problemsOf(configWith('retries: { backoff: { base: 250ms, max: 250ms } }')), []);
  assert.deepEqual(problemsOf(configWith('breaker: { open_for: 60s }\nhealth: { passive: { eject_for: 5m } }')), []);
});
