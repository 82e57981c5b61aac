import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkConfigText, loadConfigFile, parseConfigText } from '../../src/config/index.js';
import { ConfigError, formatProblem } from '../../src/errors.js';

// Fixtures are read from the source tree: dist/test/config/ -> the repository root. Problems name
// files relative to the root, and relative TLS paths resolve against it, so work from there.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
process.chdir(repoRoot);
const FIXTURES = 'test/fixtures/config';

/** The environment every golden fixture sees; the process environment plays no part. */
const GOLDEN_ENV: NodeJS.ProcessEnv = {
  GW_TEST_LISTEN: '127.0.0.1:8181',
  GW_TEST_TOKEN: 'from-env-token',
  GW_TEST_PORT: '5001',
  GW_TEST_WEIGHT: '7',
  GW_TEST_ATTEMPTS: '4',
  GW_TEST_EMPTY: '',
};

const fixtures = readdirSync(join(repoRoot, FIXTURES))
  .filter((name) => name.endsWith('.yaml'))
  .sort();

function fixture(name: string): { file: string; text: string } {
  const file = `${FIXTURES}/${name}`;
  return { file, text: readFileSync(file, 'utf8') };
}

test('the golden fixtures are all there', () => {
  assert.ok(fixtures.length >= 25, `only ${fixtures.length} fixtures found in ${FIXTURES}`);
});

for (const name of fixtures) {
  test(`golden: ${name}`, () => {
    const { file, text } = fixture(name);
    // A fixture without its expected file fails here rather than being skipped.
    const expected = readFileSync(file.replace(/\.yaml$/, '.expected.txt'), 'utf8');
    const { config, problems } = checkConfigText(text, file, GOLDEN_ENV);
    const actual = problems.map((problem) => `${formatProblem(problem)}\n`).join('');
    assert.equal(actual, expected);
    assert.equal(config === undefined, problems.length > 0, 'a config is returned exactly when there are no problems');
  });
}

test('the reference configuration of DESIGN.md parses to the documented values', () => {
  const { file, text } = fixture('reference.yaml');
  const config = parseConfigText(text, file, {});
  assert.deepEqual(config.listen, [{ address: '127.0.0.1:8080', http2: true }]);
  assert.deepEqual(config.admin, { address: '127.0.0.1:9090' });
  assert.deepEqual(Object.keys(config.upstreams), ['api']);
  assert.deepEqual(config.upstreams['api'], {
    servers: [
      { url: 'http://127.0.0.1:5001', weight: 1, backup: false },
      { url: 'http://127.0.0.1:5002', weight: 1, backup: false },
    ],
    balance: 'round_robin',
    hash_header: '',
    timeouts: { connect: 2000, send: 30_000, read: 30_000 },
    keepalive: { max_idle: 64, idle_timeout: 60_000, max_requests: 0 },
    retries: {
      attempts: 2,
      on: ['connect_failure', 'refused', 'reset', 'timeout', 502, 503, 504],
      per_try_timeout: 0,
      deadline: 0,
      backoff: { base: 25, max: 250 },
      body_limit: 64 * 1024,
      budget: { percent: 20, min_per_second: 3 },
    },
    max_response_header_bytes: 32 * 1024,
    websocket: { idle_timeout: 3_600_000 },
    health: {
      active: {
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
        jitter: 0.1,
        initial: 'healthy',
        port: 0,
      },
      passive: {
        failures: 3,
        window: 10_000,
        eject_for: 30_000,
        max_eject_for: 300_000,
        max_ejected_percent: 50,
        statuses: [502, 503, 504],
      },
      panic_threshold: 0.5,
    },
    limits: { max_inflight: 0, max_connections_per_server: 0, queue: 0, queue_timeout: 1000, retry_after: 1000 },
    slow_start: 0,
    dns: { refresh: 30_000 },
  });
  assert.deepEqual(config.routes, [
    {
      match: { path: '/' },
      upstream: 'api',
      strip_prefix: false,
      rewrite_prefix: '',
      request_headers: { set: {}, add: {}, remove: [] },
      response_headers: { set: {}, add: {}, remove: [] },
    },
  ]);
  assert.deepEqual(config.limits, {
    max_header_bytes: 16 * 1024,
    max_request_line_bytes: 8 * 1024,
    max_headers: 100,
    headers_timeout: 10_000,
    request_timeout: 60_000,
    idle_timeout: 60_000,
    max_requests_per_connection: 0,
    max_body_bytes: 0,
  });
  assert.deepEqual(config.shutdown, { grace: 10_000 });
  assert.deepEqual(config.errors, { verbose: false });
  assert.deepEqual(config.log, { level: 'info', format: 'json', access: true, file: '' });
  assert.deepEqual(config.trust_proxies, []);
  assert.deepEqual(config.proxy, { via: 'gatewise', request_id_header: 'x-request-id', max_hops: 1 });
});

test('a configuration with every key written keeps every value, in milliseconds, bytes and absolute paths', () => {
  const { file, text } = fixture('full.yaml');
  const config = parseConfigText(text, file, {});
  const tlsDir = join(repoRoot, FIXTURES, 'tls');
  assert.deepEqual(config.listen, [
    { address: '127.0.0.1:8080', http2: false },
    { address: '[::1]:8443', http2: true, tls: { cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem') } },
  ]);
  assert.deepEqual(config.admin, { address: '127.0.0.1:9191', token: 's3cret-admin-token' });
  assert.deepEqual(config.limits, {
    max_header_bytes: 32_768,
    max_request_line_bytes: 4096,
    max_headers: 50,
    headers_timeout: 5000,
    request_timeout: 120_000,
    idle_timeout: 90_000,
    max_requests_per_connection: 100,
    max_body_bytes: 10 * 1024 * 1024,
  });
  assert.equal(config.shutdown.grace, 2500);
  assert.equal(config.errors.verbose, true);
  assert.deepEqual(config.log, {
    level: 'debug',
    format: 'pretty',
    access: false,
    file: join(repoRoot, FIXTURES, 'logs/gatewise.log'),
  });
  assert.deepEqual(config.trust_proxies, ['10.0.0.0/8', '::1', '192.168.1.7']);
  assert.deepEqual(config.proxy, { via: 'edge-1', request_id_header: 'x-correlation-id', max_hops: 2 });
  const api = config.upstreams['api']!;
  assert.deepEqual(api.servers, [
    {
      url: 'https://api.internal:8443',
      weight: 3,
      backup: false,
      tls: { ca: join(tlsDir, 'cert.pem'), servername: 'api.internal', insecure: false },
    },
    { url: 'http://[::1]:5002', weight: 1, backup: true },
    { url: 'unix:/run/app.sock', weight: 1, backup: false },
  ]);
  assert.deepEqual(api.tls, { servername: 'upstream.internal', insecure: true });
  assert.equal(api.balance, 'header_hash');
  assert.equal(api.hash_header, 'x-user');
  assert.deepEqual(api.timeouts, { connect: 1000, send: 10_000, read: 15_000 });
  assert.deepEqual(api.keepalive, { max_idle: 8, idle_timeout: 4000, max_requests: 0 });
  assert.deepEqual(api.retries, {
    attempts: 3,
    on: ['connect_failure', 'refused', 'reset', 'timeout', 'tls', 'protocol', 500, 502],
    per_try_timeout: 3000,
    deadline: 20_000,
    backoff: { base: 10, max: 1000 },
    body_limit: 1024 * 1024,
    budget: { percent: 10, min_per_second: 5 },
  });
  assert.equal(api.max_response_header_bytes, 65_536);
  assert.deepEqual(api.websocket, { idle_timeout: 600_000 });
  assert.deepEqual(api.health, {
    active: {
      type: 'http',
      path: '/ready',
      method: 'HEAD',
      headers: { Host: 'health.internal', 'X-Probe': '1', Authorization: 'Basic cHJvYmU6cHJvYmU=' },
      interval: 5000,
      timeout: 500,
      healthy_after: 1,
      unhealthy_after: 3,
      expect_status: [
        { min: 200, max: 200 },
        { min: 204, max: 206 },
        { min: 300, max: 304 },
      ],
      expect_body: 'ok',
      expect_json: { path: 'checks.db', equals: 'up' },
      jitter: 0.25,
      initial: 'unhealthy',
      port: 9000,
    },
    passive: {
      failures: 5,
      window: 60_000,
      eject_for: 3_600_000,
      max_eject_for: 4 * 3_600_000,
      max_ejected_percent: 34,
      statuses: [500, 502, 503],
      latency: { p99_above: 750, min_requests: 50, window: 60_000 },
    },
    panic_threshold: 0,
  });
  assert.deepEqual(api.breaker, {
    failure_ratio: 0.25,
    min_requests: 10,
    window: 20_000,
    consecutive_failures: 0,
    open_for: 2000,
    max_open_for: 120_000,
    half_open_requests: 1,
  });
  assert.deepEqual(api.limits, {
    max_inflight: 200,
    max_connections_per_server: 32,
    queue: 100,
    queue_timeout: 250,
    retry_after: 1500,
  });
  assert.equal(api.slow_start, 30_000);
  assert.deepEqual(api.dns, { refresh: 300_000 });
  const plain = config.upstreams['static']!;
  assert.deepEqual(plain.health, {
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
  assert.equal('breaker' in plain, false, 'no breaker unless one is written');
  const [first, second, third] = config.routes;
  assert.deepEqual(first, {
    match: { host: 'api.example.com', path: '/api', methods: ['GET', 'POST'] },
    upstream: 'api',
    strip_prefix: true,
    rewrite_prefix: '',
    request_headers: {
      set: { Authorization: 'Bearer upstream-secret', 'X-Port': '443' },
      add: { 'X-Gateway': 'gatewise' },
      remove: ['Cookie'],
    },
    response_headers: { set: { 'Strict-Transport-Security': 'max-age=63072000' }, add: {}, remove: ['Server'] },
    rate_limit: { rate: 50, per: 60_000, burst: 75 },
  });
  assert.deepEqual(second?.match, { host: '*.example.com', path: '/old' });
  assert.equal(second?.rewrite_prefix, '/new');
  assert.deepEqual(second?.rate_limit, { rate: 100, per: 1000, burst: 0 });
  assert.deepEqual(third?.match, { path: '/' });
  assert.equal(third !== undefined && 'rate_limit' in third, false, 'no rate limit unless one is written');
});

test('environment variables expand when set, fall back to defaults, and never change YAML structure', () => {
  const { file, text } = fixture('env.yaml');
  const config = parseConfigText(text, file, { ...GOLDEN_ENV, GW_TEST_TOKEN: 'tricky: value\n- with "yaml"' });
  assert.equal(config.listen[0]?.address, '127.0.0.1:8181');
  assert.equal(config.admin.token, 'tricky: value\n- with "yaml"');
  assert.equal(config.admin.address, '127.0.0.1:9191', 'unset with :- takes the default');
  const api = config.upstreams['api']!;
  assert.equal(api.servers[0]?.url, 'http://127.0.0.1:5001');
  assert.equal(api.servers[0]?.weight, 7, 'an expanded integer is an integer');
  assert.equal(api.retries.attempts, 4);
  assert.equal(api.timeouts.connect, 2000);
  assert.deepEqual(config.routes[0]?.request_headers.set, {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal that `$${` writes
    'X-Literal': '${NOT_EXPANDED}',
    'X-Empty': 'fallback',
  });
});

test('without an explicit environment, process.env is used', (t) => {
  const name = `GW_TEST_PROCESS_ENV_${process.pid}`;
  process.env[name] = '127.0.0.1:8282';
  t.after(() => {
    delete process.env[name];
  });
  const text = `listen:\n  - address: \${${name}}\nupstreams:\n  api: { servers: [ { url: "http://127.0.0.1:1" } ] }\nroutes:\n  - upstream: api\n`;
  assert.equal(parseConfigText(text, 'inline.yaml').listen[0]?.address, '127.0.0.1:8282');
  assert.throws(
    () => parseConfigText(text, 'inline.yaml', {}),
    /environment variable GW_TEST_PROCESS_ENV_\d+ is not set/,
  );
});

test('parseConfigText throws one ConfigError carrying every problem', () => {
  const { file, text } = fixture('many-problems.yaml');
  const expected = readFileSync(`${FIXTURES}/many-problems.expected.txt`, 'utf8').trimEnd();
  assert.throws(
    () => parseConfigText(text, file, {}),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, 'GW_CONFIG_INVALID');
      assert.equal(error.problems.length, 8);
      assert.equal(error.message, expected);
      return true;
    },
  );
});

test('loadConfigFile reads a file, and reports an unreadable one at 1:1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gatewise.yaml');
  writeFileSync(file, readFileSync(`${FIXTURES}/reference.yaml`));
  const config = await loadConfigFile(file, {});
  assert.equal(config.upstreams['api']?.timeouts.connect, 2000);

  const missing = join(dir, 'missing.yaml');
  await assert.rejects(loadConfigFile(missing, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [
      { file: missing, line: 1, col: 1, message: 'cannot read the configuration file: does not exist' },
    ]);
    return true;
  });
  await assert.rejects(loadConfigFile(dir, {}), /cannot read the configuration file: is a directory/);
});

test('checking never mutates shared state: the same text gives the same answer twice', () => {
  const { file, text } = fixture('full.yaml');
  const first = checkConfigText(text, file, {});
  const second = checkConfigText(text, file, {});
  assert.deepEqual(first, second);
  assert.notEqual(first.config, second.config);
});
