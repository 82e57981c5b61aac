/** The http check against real backends: latency against the read timeout, head size, status, garbage. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import { findingsOf, gatewiseConfig, problemOf, upstream } from './support.js';

const OPTIONS = { checks: ['http'], timeoutMs: 1000 } as const;

function health(path: string, extra = ''): string {
  return `    health:\n      active: { path: ${path} }\n${extra}`;
}

test('a healthy backend: ok, with the status line, latency and head size', async (t) => {
  const ok = await upstream(t, 'ok');
  const config = gatewiseConfig(t, { api: { servers: [ok.url], extra: health('/health') } });
  const report = await runDoctor({ config, ...OPTIONS });
  const [found] = findingsOf(report, 'http');
  assert.equal(found!.severity, 'ok');
  assert.match(
    found!.title,
    new RegExp(`^GET /health to 127\\.0\\.0\\.1:${ok.port}: HTTP/1\\.1 200 OK in [\\d.]+ ms, head \\d+ bytes$`),
  );
  assert.deepEqual(found!.evidence, [
    'upstreams.api.timeouts.read is 60s',
    'upstreams.api.max_response_header_bytes is 32k',
  ]);
});

test('no response head within the read timeout: critical slow_backend, worded as the gateway answers', async (t) => {
  const ok = await upstream(t, 'ok');
  const config = gatewiseConfig(t, {
    api: { servers: [ok.url], extra: health('/slow/1500', '    timeouts: { read: 500ms }') },
  });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'http', `127.0.0.1:${ok.port}`);
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'slow_backend');
  assert.equal(found.title, `127.0.0.1:${ok.port} sent no response head within upstreams.api.timeouts.read 500ms`);
  assert.ok(found.evidence.includes('Gatewise answers 504 connection_read_timeout'));
  assert.match(found.fix!, /raise upstreams\.api\.timeouts\.read/);
});

test('an answer slower than half the read timeout is a warning', async (t) => {
  const ok = await upstream(t, 'ok');
  const config = gatewiseConfig(t, {
    api: { servers: [ok.url], extra: health('/slow/400', '    timeouts: { read: 700ms }') },
  });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'http', `127.0.0.1:${ok.port}`);
  assert.equal(found.severity, 'warning');
  assert.equal(found.cause, 'slow_backend');
  assert.match(found.title, /took \d+ ms to answer, more than half of the read timeout/);
});

test("slower than doctor's own limit but within a long read timeout: a warning that says so", async (t) => {
  const ok = await upstream(t, 'ok');
  const config = gatewiseConfig(t, { api: { servers: [ok.url], extra: health('/slow/1500') } });
  const report = await runDoctor({ config, checks: ['http'], timeoutMs: 500 });
  const found = problemOf(report, 'http', `127.0.0.1:${ok.port}`);
  assert.equal(found.severity, 'warning');
  assert.equal(found.title, `127.0.0.1:${ok.port} sent no response head within 500 ms`);
  assert.ok(found.evidence.some((line) => line.includes('doctor stopped waiting at its own limit')));
});

test('a response head over the limit: critical buffer_or_limit_config; a larger limit takes it', async (t) => {
  const huge = await upstream(t, 'huge_head', { headBytes: 40 * 1024 });
  const config = gatewiseConfig(t, {
    small: { servers: [huge.url] },
    large: { servers: [huge.url], extra: '    max_response_header_bytes: 64k' },
  });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'http', 'small:');
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'buffer_or_limit_config');
  assert.match(
    found.title,
    /^response head of 127\.0\.0\.1:\d+ is \d+ bytes, over upstreams\.small\.max_response_header_bytes 32k$/,
  );
  assert.match(found.fix!, /raise upstreams\.small\.max_response_header_bytes above \d+ bytes \(e\.g\. 64k\)/);
  assert.deepEqual(
    findingsOf(report, 'http', 'large:').map((entry) => entry.severity),
    ['ok'],
  );
});

test('bytes that are not HTTP, and a close before any byte, are named as the gateway would classify them', async (t) => {
  const garbage = await upstream(t, 'garbage');
  const close = await upstream(t, 'close');
  const config = gatewiseConfig(t, { garbage: { servers: [garbage.url] }, close: { servers: [close.url] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const bad = problemOf(report, 'http', 'garbage:');
  assert.equal(bad.cause, 'protocol_error');
  assert.match(bad.title, /failed: http_protocol_error$/);
  assert.ok(
    bad.evidence.some((line) => line.startsWith('first bytes: "SSH-2.0-OpenSSH')),
    bad.evidence.join('\n'),
  );
  const closed = problemOf(report, 'http', 'close:');
  assert.equal(closed.cause, 'crash_or_oom');
  assert.match(closed.title, /failed: connection_terminated$/);
});

test('a health path answering 5xx is a warning', async (t) => {
  const ok = await upstream(t, 'ok');
  const config = gatewiseConfig(t, { api: { servers: [ok.url], extra: health('/status/503') } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'http', `127.0.0.1:${ok.port}`);
  assert.equal(found.severity, 'warning');
  assert.equal(found.title, `GET /status/503 to 127.0.0.1:${ok.port} answered 503`);
});
