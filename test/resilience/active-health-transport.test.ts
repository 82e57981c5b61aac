import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { TEST_CA_PATH } from '../../src/drill/upstreams.js';
import { check, firstResult, healthConfig, targetOf, upstream, waitFor } from './active-health-support.js';

const CA = readFileSync(TEST_CA_PATH);

async function socketDirectory(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatewise-health-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a server that never answers fails after the timeout, waiting for the response head', async (t) => {
  const hang = await upstream(t, 'hang');
  const { checker } = check(t, [targetOf(hang)], healthConfig({ timeout: 200 }));
  assert.equal(await firstResult(checker), 'GET /health timed out after 200 ms waiting for the response head');
});

test('the timeout bounds the body too: a dripping body fails the probe', async (t) => {
  const drip = await upstream(t, 'slow_drip', { dripMs: 100, dripBytes: 100 });
  const { checker } = check(t, [targetOf(drip)], healthConfig({ path: '/', timeout: 300 }));
  assert.equal(await firstResult(checker), 'GET / timed out after 300 ms reading the response body');
});

test('a connect that is never answered fails after the timeout, while connecting', async (t) => {
  const backlog = await upstream(t, 'full_backlog');
  const http = check(t, [targetOf(backlog)], healthConfig({ timeout: 200 }));
  const tcp = check(t, [targetOf(backlog)], healthConfig({ type: 'tcp', timeout: 200 }));
  assert.equal(await firstResult(http.checker), 'GET /health timed out after 200 ms while connecting');
  assert.equal(
    await firstResult(tcp.checker),
    `TCP connect to 127.0.0.1:${backlog.port} timed out after 200 ms while connecting`,
  );
});

test('a server that closes without answering fails with the classifier wording', async (t) => {
  const close = await upstream(t, 'close');
  const { checker } = check(t, [targetOf(close)], healthConfig());
  assert.match(
    await firstResult(checker),
    /^GET \/health failed: upstream prematurely closed connection \(UND_ERR_SOCKET: .+\) while reading response header from upstream$/,
  );
});

test('tcp: a completed connect passes, a refused one fails', async (t) => {
  const hang = await upstream(t, 'hang');
  const refused = await upstream(t, 'refuse');
  const { checker, transitions } = check(t, [targetOf(hang), targetOf(refused)], healthConfig({ type: 'tcp' }));
  // The hang upstream accepts connections: for a TCP check that is enough.
  assert.equal(await firstResult(checker, 0), `TCP connect to 127.0.0.1:${hang.port} succeeded`);
  await waitFor('the refused server out', () => transitions.length === 1);
  assert.equal(
    transitions[0]!.reason,
    `TCP connect to 127.0.0.1:${refused.port} failed: connect() to 127.0.0.1:${refused.port} failed (ECONNREFUSED: connection refused) while connecting to upstream (1 consecutive failed check)`,
  );
  assert.equal(checker.state(0), 'healthy');
  assert.equal(hang.requests, 0, 'a TCP check sends no byte');
});

test('unix sockets: HTTP and TCP probes, a refusing socket and a missing path', async (t) => {
  const dir = await socketDirectory(t);
  const ok = await upstream(t, 'ok', { unixPath: join(dir, 'ok.sock') });
  const refusing = await upstream(t, 'refuse', { unixPath: join(dir, 'refuse.sock') });
  const missing = join(dir, 'missing.sock');
  const missingTarget = { name: `unix:${missing}`, kind: 'unix' as const, host: '', port: 0, socketPath: missing };
  const http = check(t, [targetOf(ok), targetOf(refusing), missingTarget], healthConfig());
  const tcp = check(t, [targetOf(ok)], healthConfig({ type: 'tcp' }));
  assert.equal(await firstResult(http.checker, 0), 'GET /health answered 200');
  assert.match(await firstResult(http.checker, 1), /failed \(ECONNREFUSED: connection refused\) while connecting/);
  assert.equal(
    await firstResult(http.checker, 2),
    `GET /health failed: connect() to unix:${missing} failed (ENOENT: no such file or directory) while connecting to upstream`,
  );
  assert.equal(await firstResult(tcp.checker), `TCP connect to unix:${ok.socketPath} succeeded`);
});

test('https: the test CA is trusted when given and the probe passes', async (t) => {
  const tls = await upstream(t, 'tls');
  const target = targetOf(tls, { tls: { ca: CA, rejectUnauthorized: true } });
  const { checker } = check(t, [target], healthConfig());
  assert.equal(await firstResult(checker), 'GET /health answered 200');
});

test('https: certificate faults fail the probe during the handshake', async (t) => {
  const tls = await upstream(t, 'tls');
  const wrongHost = await upstream(t, 'tls_wrong_host');
  const plain = await upstream(t, 'ok');
  const trusted = { ca: CA, rejectUnauthorized: true };
  const { checker } = check(
    t,
    [
      targetOf(tls, { tls: { rejectUnauthorized: true } }),
      targetOf(wrongHost, { tls: trusted }),
      targetOf(plain, { kind: 'https', tls: trusted }),
      targetOf(tls, { tls: { rejectUnauthorized: false } }),
    ],
    healthConfig(),
  );
  assert.match(
    await firstResult(checker, 0),
    /^GET \/health failed: upstream SSL certificate verify error: \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): .+\) while SSL handshaking to upstream$/,
  );
  assert.match(
    await firstResult(checker, 1),
    /^GET \/health failed: upstream SSL certificate does not match the server name \(ERR_TLS_CERT_ALTNAME_INVALID: .+\) while SSL handshaking to upstream$/,
  );
  assert.match(
    await firstResult(checker, 2),
    /^GET \/health failed: SSL_do_handshake\(\) failed \(ERR_SSL_WRONG_VERSION_NUMBER: .+; the upstream does not speak TLS\) while SSL handshaking to upstream$/,
  );
  // insecure: the certificate is not checked, as on proxied connections.
  assert.equal(await firstResult(checker, 3), 'GET /health answered 200');
});

test('https: the configured server name is sent as SNI and checked against the certificate', async (t) => {
  const wrongHost = await upstream(t, 'tls_wrong_host');
  const target = targetOf(wrongHost, {
    tls: { ca: CA, servername: 'wrong.example', rejectUnauthorized: true },
    hostHeader: 'wrong.example',
  });
  const { checker } = check(t, [target], healthConfig());
  assert.equal(await firstResult(checker), 'GET /health answered 200');
});

test('https: the Host header never becomes the SNI name; only the configured server name does', async (t) => {
  const wrongHost = await upstream(t, 'tls_wrong_host');
  const target = targetOf(wrongHost, { tls: { ca: CA, rejectUnauthorized: true }, hostHeader: 'wrong.example' });
  const { checker } = check(t, [target], healthConfig());
  assert.match(await firstResult(checker), /\(ERR_TLS_CERT_ALTNAME_INVALID: .+\) while SSL handshaking to upstream$/);
});
