/** The keepalive check: the backend's idle timeout (advertised or seen) against the gateway's. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import { startRawUpstream } from '../../support/raw-upstream.js';
import { findingsOf, gatewiseConfig, nginxConfig, upstream } from './support.js';

const OPTIONS = { checks: ['keepalive'], timeoutMs: 1000 } as const;

function pooledNginx(t: import('node:test').TestContext, port: number, timeout = ''): string {
  return nginxConfig(
    t,
    `  upstream app { server 127.0.0.1:${port}; keepalive 8; ${timeout} }
  server {
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://app; }
  }`,
  );
}

test("backend keep-alive shorter than nginx's keepalive_timeout: warning keepalive_mismatch", async (t) => {
  const backend = await upstream(t, 'ok', { keepAliveTimeoutS: 1 });
  const report = await runDoctor({ nginx: pooledNginx(t, backend.port), ...OPTIONS });
  const [found, ...rest] = findingsOf(report, 'keepalive');
  assert.deepEqual(rest, []);
  assert.equal(found!.severity, 'warning');
  assert.equal(found!.cause, 'keepalive_mismatch');
  assert.equal(found!.title, `nginx keeps idle connections to 127.0.0.1:${backend.port} longer than the backend does`);
  assert.ok(found!.evidence.includes(`127.0.0.1:${backend.port} advertises "Keep-Alive: timeout=1"`));
  assert.ok(found!.evidence.includes('keepalive_timeout (in the upstream block) is 60s'));
  assert.match(found!.fix!, /set keepalive_timeout \(in the upstream block\) below 1s/);
});

test("backend keep-alive longer than nginx's keepalive_timeout: ok", async (t) => {
  const backend = await upstream(t, 'ok', { keepAliveTimeoutS: 120 });
  const report = await runDoctor({ nginx: pooledNginx(t, backend.port, 'keepalive_timeout 30s;'), ...OPTIONS });
  assert.deepEqual(
    findingsOf(report, 'keepalive').map((found) => [found.severity, found.title]),
    [['ok', `127.0.0.1:${backend.port} keeps idle connections 120s, longer than the gateway's 30s`]],
  );
});

test('Gatewise closes idle connections before the timeout a backend advertises: ok', async (t) => {
  const backend = await upstream(t, 'ok', { keepAliveTimeoutS: 1 });
  const config = gatewiseConfig(t, { api: { servers: [backend.url] } });
  const report = await runDoctor({ config, ...OPTIONS });
  assert.deepEqual(
    findingsOf(report, 'keepalive').map((found) => [found.severity, found.title]),
    [['ok', `127.0.0.1:${backend.port} keeps idle connections 1s; Gatewise closes them a second earlier`]],
  );
});

test('a backend that closes idle connections without saying so is caught by watching one', async (t) => {
  const backend = await startRawUpstream((request) => {
    request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const timer = setTimeout(() => request.socket.end(), 200);
    request.socket.once('close', () => clearTimeout(timer));
  });
  t.after(() => backend.close());
  const config = gatewiseConfig(t, { api: { servers: [backend.url] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const [found] = findingsOf(report, 'keepalive');
  assert.equal(found!.severity, 'warning');
  assert.equal(found!.cause, 'keepalive_mismatch');
  assert.ok(
    found!.evidence.some((line) => /closed the idle connection after \d+ ms/.test(line)),
    found!.evidence.join('\n'),
  );
});

test('nginx without keepalive in the upstream block reuses nothing: no keep-alive findings', async (t) => {
  const backend = await upstream(t, 'ok', { keepAliveTimeoutS: 1 });
  const file = nginxConfig(t, `  server { location / { proxy_pass http://127.0.0.1:${backend.port}; } }`);
  const report = await runDoctor({ nginx: file, ...OPTIONS });
  assert.deepEqual(findingsOf(report, 'keepalive'), []);
});
