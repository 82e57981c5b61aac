import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { explainLine } from '../../../src/diagnose/explain/index.js';
import { type ClassifyContext, classify, ERROR_TYPES, type Phase, ROOT_CAUSES } from '../../../src/diagnose/index.js';

const NGINX_REFUSED =
  '2024/03/14 09:21:00 [error] 2311#2311: *101 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: api, request: "GET /v1/orders HTTP/1.1", upstream: "http://10.0.0.5:5000/v1/orders", host: "api"';

function ctx(phase: Phase): ClassifyContext {
  return { phase, upstream: 'api', server: '10.0.0.5:80', attempt: 1, reused: false };
}

test("a Node.js system error gets the type and cause Gatewise's own classifier gives the same error", () => {
  const cases: ReadonlyArray<readonly [string, string, Phase]> = [
    ['connect', 'ECONNREFUSED', 'connect'],
    ['connect', 'EHOSTUNREACH', 'connect'],
    ['connect', 'ENETUNREACH', 'connect'],
    ['connect', 'ETIMEDOUT', 'connect'],
    ['connect', 'EACCES', 'connect'],
    ['connect', 'EADDRNOTAVAIL', 'connect'],
    ['read', 'ECONNRESET', 'read_head'],
    ['write', 'EPIPE', 'send'],
    ['getaddrinfo', 'ENOTFOUND', 'dns'],
    ['getaddrinfo', 'EAI_AGAIN', 'dns'],
  ];
  for (const [syscall, code, phase] of cases) {
    const err = Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
    const failure = classify(err, ctx(phase));
    const e = explainLine(`Error: ${syscall} ${code} 10.0.0.5:80`);
    assert.equal(e.source, 'node');
    assert.equal(e.error, failure.type, code);
    assert.equal(e.causes[0]!.cause, failure.cause, code);
    assert.equal(e.phase, phase, code);
  }
});

test('a Gatewise failure record is explained from its own fields, for every error type and cause', () => {
  for (const error of Object.keys(ERROR_TYPES)) {
    for (const cause of Object.keys(ROOT_CAUSES)) {
      const line = JSON.stringify({
        level: 50,
        time: '2024-03-14T09:21:00.000Z',
        msg: 'upstream failure',
        request_id: 'abc-1',
        upstream: 'api',
        server: '10.0.0.5:5001',
        attempt: 2,
        phase: 'connect',
        code: 'X',
        proxy_status: error,
        cause,
        detail: 'the detail',
        hint: ROOT_CAUSES[cause as keyof typeof ROOT_CAUSES].hint,
      });
      const e = explainLine(line);
      assert.equal(e.source, 'gatewise');
      assert.equal(e.error, error);
      assert.equal(e.causes[0]!.cause, cause);
      assert.equal(e.causes[0]!.why, 'the detail');
      assert.equal(e.upstream, '10.0.0.5:5001');
      assert.equal(e.time, '2024-03-14T09:21:00.000Z');
      assert.equal(e.checks[0]!.what, ROOT_CAUSES[cause as keyof typeof ROOT_CAUSES].hint);
    }
  }
});

test('a line no format knows is "unknown", cause other, low confidence', () => {
  for (const line of ['', '   ', 'hello world', '{"a":1}', '[1,2,3]', 'Mar 14 09:21:00 web1 cron[1]: job done']) {
    const e = explainLine(line);
    assert.equal(e.source, 'unknown', line);
    assert.equal(e.error, null);
    assert.deepEqual(
      e.causes.map((c) => c.cause),
      ['other'],
    );
    assert.equal(e.confidence, 'low');
    assert.equal(e.line, line);
  }
});

test('the explanation has the public fields and survives JSON', () => {
  const e = explainLine(NGINX_REFUSED);
  assert.deepEqual(Object.keys(e).sort(), [
    'causes',
    'checks',
    'confidence',
    'error',
    'line',
    'phase',
    'source',
    'summary',
    'time',
    'upstream',
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
});

test('the upstream is shown without the request path, so one server groups together', () => {
  assert.equal(explainLine(NGINX_REFUSED).upstream, 'http://10.0.0.5:5000');
  const unix = NGINX_REFUSED.replace(
    'connect() failed (111: Connection refused)',
    'connect() to unix:/run/app.sock failed (2: No such file or directory)',
  ).replace('http://10.0.0.5:5000/v1/orders', 'http://unix:/run/app.sock:/v1/orders');
  assert.equal(explainLine(unix).upstream, 'http://unix:/run/app.sock');
});

test('checks carry the host and port of the line in their commands', () => {
  const e = explainLine(NGINX_REFUSED);
  const commands = e.checks.map((c) => c.command).filter((c) => c !== undefined);
  assert.ok(commands.includes("ss -ltnp 'sport = :5000'"), commands.join('\n'));
  assert.ok(commands.includes('curl -sv http://10.0.0.5:5000/ -o /dev/null'), commands.join('\n'));
  const tls = explainLine(
    '2024/03/14 09:21:00 [error] 2311#2311: *7 upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream, client: 203.0.113.7, server: api, request: "GET / HTTP/1.1", upstream: "https://orders.internal:8443/", host: "api"',
  );
  assert.ok(
    tls.checks.some((c) =>
      c.command?.startsWith('openssl s_client -connect orders.internal:8443 -servername orders.internal'),
    ),
  );
});

test('checks name the setting of the proxy that wrote the line', () => {
  const nginx = explainLine(
    '2024/03/14 09:21:00 [error] 2311#2311: *7 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: api, request: "GET / HTTP/1.1", upstream: "http://10.0.0.5:5000/", host: "api"',
  );
  assert.ok(nginx.checks.some((c) => c.what.includes('proxy_read_timeout')));
  const gatewise = explainLine(
    JSON.stringify({
      level: 50,
      time: '2024-03-14T09:21:00.000Z',
      msg: 'upstream failure',
      request_id: 'r-1',
      server: '10.0.0.5:5000',
      phase: 'read_head',
      proxy_status: 'connection_read_timeout',
      cause: 'slow_backend',
      detail: 'upstream timed out',
    }),
  );
  assert.ok(gatewise.checks.some((c) => c.what.includes('timeouts.read')));
});

test('times are read from every format', () => {
  assert.equal(explainLine(NGINX_REFUSED).time, '2024-03-14T09:21:00');
  assert.equal(
    explainLine(
      '203.0.113.7 - - [14/Mar/2024:09:21:05 +0100] "GET / HTTP/1.1" 502 157 "-" "curl/8.5.0" us="502" urt="0.000"',
    ).time,
    '2024-03-14T09:21:05+01:00',
  );
  assert.equal(
    explainLine('[2024-03-14T09:21:11.880Z] "GET / HTTP/1.1" 503 UH 0 19 0 - "-" "curl/8.5.0" "id" "orders" "-"').time,
    '2024-03-14T09:21:11.880Z',
  );
  assert.equal(
    explainLine(
      JSON.stringify({
        level: 'error',
        ts: 1710408060.5,
        logger: 'http.log.error',
        msg: 'no upstreams available',
        status: 503,
      }),
    ).time,
    '2024-03-14T09:21:00.500Z',
  );
  assert.equal(
    explainLine(
      'Mar 14 09:21:03 lb1 haproxy[1820]: 203.0.113.7:51234 [14/Mar/2024:09:21:03.004] fe be/srv1 0/0/0/-1/120 502 209 - - SH-- 1/1/1/1/0 0/0 "GET / HTTP/1.1"',
    ).time,
    '2024-03-14T09:21:03.004',
  );
});

test('container runtime wrappers are taken off the line', () => {
  const docker = JSON.stringify({ log: `${NGINX_REFUSED}\n`, stream: 'stderr', time: '2024-03-14T09:21:00.1Z' });
  const e = explainLine(docker);
  assert.equal(e.source, 'nginx_error');
  assert.equal(e.error, 'connection_refused');
  assert.equal(e.line, docker);
  const cri = explainLine(`2024-03-14T09:21:00.123456789Z stderr F ${NGINX_REFUSED}`);
  assert.equal(cri.source, 'nginx_error');
  assert.equal(cri.error, 'connection_refused');
});

test('localhost resolved to ::1 ranks the wrong address first', () => {
  const node = explainLine('Error: connect ECONNREFUSED ::1:3000');
  assert.equal(node.causes[0]!.cause, 'wrong_upstream_address');
  assert.equal(node.upstream, '[::1]:3000');
  const nginx = explainLine(NGINX_REFUSED.replace('http://10.0.0.5:5000/v1/orders', 'http://[::1]:5000/'));
  assert.equal(nginx.causes[0]!.cause, 'wrong_upstream_address');
  assert.ok(nginx.checks.some((c) => c.command === 'getent ahosts localhost'));
});

test("Envoy's upstream host is read from its place in the default and in Istio's format", () => {
  const plain = explainLine(
    '[2024-03-14T09:21:00.123Z] "GET / HTTP/1.1" 503 UF 0 91 1 - "-" "curl/8.5.0" "id-1" "orders:8080" "10.0.0.5:5000"',
  );
  assert.equal(plain.upstream, '10.0.0.5:5000');
  const istio = explainLine(
    '[2024-03-14T09:21:00.123Z] "GET / HTTP/1.1" 503 UF upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111} - "delayed_connect_error:_111" 0 145 1 - "-" "curl/8.5.0" "id-2" "orders:8080" "10.244.1.17:8080" outbound|8080||orders.svc - 10.96.12.4:8080 10.244.0.7:48120 - default',
  );
  assert.equal(istio.upstream, '10.244.1.17:8080');
  assert.equal(istio.error, 'connection_refused');
  assert.equal(istio.confidence, 'high');
});

test('an access line with no upstream detail is a low-confidence guess that points to the error log', () => {
  const e = explainLine(
    '203.0.113.7 - - [14/Mar/2024:09:21:09 +0000] "GET /v1/orders HTTP/1.1" 502 157 "-" "curl/8.5.0"',
  );
  assert.equal(e.source, 'nginx_access');
  assert.equal(e.confidence, 'low');
  assert.ok(e.checks[0]!.what.includes('nginx error log'));
  assert.ok(e.causes.length >= 3, 'the alternatives are named');
});
