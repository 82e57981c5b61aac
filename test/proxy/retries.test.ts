/**
 * Retries as a user sees them: a down server costs a retry, never an error; unsafe requests that
 * reached a server are never replayed; `retries.attempts: 1` turns retrying off.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { header, httpRequest, parseEcho, rawRequest, sha256 } from '../support/wire.js';

type T = import('node:test').TestContext;

async function pair(t: T, bad: 'refuse' | 'reset', extra = '') {
  const broken = await startUpstream(bad);
  t.after(() => broken.close());
  const good = await startUpstream('ok', { name: 'good' });
  t.after(() => good.close());
  const gw = await startGateway(simpleConfig([broken.url, good.url], extra));
  t.after(() => gw.close());
  return { broken, good, gw };
}

test('one server refusing: every request succeeds on the other after one retry', async (t) => {
  const { gw, good } = await pair(t, 'refuse');
  for (let i = 0; i < 6; i++) {
    const reply = await rawRequest(gw.port, `GET /echo?i=${i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    assert.equal(reply.status, 200, `request ${i}: ${reply.body.toString()}`);
    assert.equal(parseEcho(reply).server, 'good');
  }
  assert.equal(gw.access.length, 6);
  const retried = gw.access.filter((r) => r.attempts === 2);
  assert.ok(retried.length >= 1, 'no request was retried, so none met the refusing server');
  for (const r of gw.access) {
    assert.equal(r.status, 200);
    assert.equal(r.server, `127.0.0.1:${good.port}`);
    assert.ok(r.attempts <= 2);
  }
  assert.ok(gw.failures.every((f) => f.type === 'connection_refused'));
});

test('a POST to a server that resets after reading the head is not retried (502)', async (t) => {
  const { gw, broken, good } = await pair(t, 'reset');
  const results: number[] = [];
  for (let i = 0; i < 4; i++) {
    const reply = await rawRequest(
      gw.port,
      'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    results.push(reply.status);
    if (reply.status !== 200) {
      assert.equal(reply.status, 502);
      assert.equal(header(reply, 'proxy-status'), 'gatewise; error=connection_terminated');
    }
  }
  // Round robin sends half of them to the resetting server; none of those may go on to the other.
  assert.equal(broken.requests, 2);
  assert.deepEqual([...results].sort(), [200, 200, 502, 502]);
  assert.equal(good.requests, 2);
  for (const r of gw.access.filter((a) => a.status === 502)) assert.equal(r.attempts, 1);
});

test('a GET to a server that resets after reading the head is retried on the other', async (t) => {
  const { gw, broken } = await pair(t, 'reset');
  for (let i = 0; i < 4; i++) {
    const reply = await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    assert.equal(reply.status, 200);
    assert.equal(parseEcho(reply).server, 'good');
  }
  assert.ok(broken.requests >= 1);
  assert.ok(gw.access.some((r) => r.attempts === 2));
});

test('retries.attempts: 1 means no retry', async (t) => {
  const { gw, good } = await pair(t, 'refuse', '    retries: { attempts: 1 }');
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const reply = await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    statuses.push(reply.status);
  }
  assert.deepEqual([...statuses].sort(), [200, 200, 502, 502]);
  assert.equal(good.requests, 2);
  for (const r of gw.access) assert.equal(r.attempts, 1);
});

test('every server refusing: 502 after trying each once', async (t) => {
  const a = await startUpstream('refuse');
  t.after(() => a.close());
  const b = await startUpstream('refuse');
  t.after(() => b.close());
  const gw = await startGateway(simpleConfig([a.url, b.url], '    retries: { attempts: 2 }'));
  t.after(() => gw.close());
  const reply = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 502);
  assert.equal(header(reply, 'proxy-status'), 'gatewise; error=connection_refused');
  const record = await gw.nextAccess();
  assert.equal(record.attempts, 2);
  assert.equal(gw.failures.length, 2);
  assert.notEqual(gw.failures[0]?.server, gw.failures[1]?.server);
});

test('a POST with a body to a refusing server is retried (no byte reached it)', async (t) => {
  const { gw } = await pair(t, 'refuse');
  for (let i = 0; i < 2; i++) {
    const reply = await rawRequest(
      gw.port,
      'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body.toString()) as { bytes: number }).bytes, 5);
  }
});

test('a 1 MB POST to a refusing server is replayed whole on the other', async (t) => {
  const { gw } = await pair(t, 'refuse');
  const body = Buffer.alloc(1024 * 1024, 0x71);
  for (let i = 0; i < 2; i++) {
    const reply = await httpRequest(gw.port, {
      method: 'POST',
      path: '/upload',
      headers: { 'Content-Length': String(body.length) },
      body,
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body.toString()), { bytes: body.length, sha256: sha256(body) });
  }
  assert.ok(gw.access.some((r) => r.attempts === 2));
});
