/**
 * Graceful shutdown and hot reload with requests in flight: nothing in flight is cut, new
 * connections are refused after stop, and after a reload new requests go to the new upstream while
 * the old one finishes what it started.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { delay, header, openRaw, parseEcho, rawRequest } from '../support/wire.js';

function connectOutcome(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

test('graceful stop: the in-flight request completes, new connections are refused', async (t) => {
  const upstream = await startUpstream('ok', { name: 'a' });
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET /slow/500 HTTP/1.1\r\nHost: t\r\n\r\n');
  await delay(100);
  const stopped = gw.gateway.stop(3000);
  await delay(50);
  assert.equal(await connectOutcome(gw.port), 'ECONNREFUSED');
  const reply = await c.readReply();
  assert.equal(reply.status, 200);
  assert.equal(reply.body.toString(), 'slow 500');
  // Shutting down: the client is told the connection ends here.
  assert.equal(header(reply, 'connection'), 'close');
  await c.waitClose(3000);
  await stopped;
});

test('graceful stop closes idle keep-alive connections at once', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.equal((await c.readReply()).status, 200);
  const started = Date.now();
  await gw.gateway.stop(5000);
  await c.waitClose(1000);
  assert.ok(Date.now() - started < 4000, 'stop waited for an idle connection');
});

test('graceful stop gives up on a request slower than the grace period', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET /slow/5000 HTTP/1.1\r\nHost: t\r\n\r\n');
  await delay(100);
  const started = Date.now();
  await gw.gateway.stop(300);
  assert.ok(Date.now() - started < 3000);
  await c.waitClose(2000);
});

test('graceful stop: a pipelined request behind the one in flight is not started', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET /slow/400 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  await delay(100);
  const stopped = gw.gateway.stop(3000);
  const first = await c.readReply();
  assert.equal(first.status, 200);
  assert.equal(header(first, 'connection'), 'close');
  await c.waitClose(3000);
  await stopped;
});

test('hot reload: in-flight request finishes on the old upstream, new ones go to the new one', async (t) => {
  const oldUp = await startUpstream('ok', { name: 'old' });
  t.after(() => oldUp.close());
  const newUp = await startUpstream('ok', { name: 'new' });
  t.after(() => newUp.close());
  const gw = await startGateway(simpleConfig([oldUp.url]));
  t.after(() => gw.close());
  // A keep-alive client whose connection spans the reload.
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.equal(parseEcho(await c.readReply()).server, 'old');

  const slow = await openRaw(t, gw.port);
  slow.write('GET /slow/600 HTTP/1.1\r\nHost: t\r\n\r\n');
  await delay(100);
  // The same listen spec as the running config (port 0 there): the bound listener is kept.
  const text = `listen: [{ address: 127.0.0.1:0 }]\n${simpleConfig([newUp.url])}`;
  await gw.gateway.reload(parseConfigText(text, 'reload.yaml'));

  const fresh = await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(parseEcho(fresh).server, 'new');
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.equal(parseEcho(await c.readReply()).server, 'new');

  const slowReply = await slow.readReply();
  assert.equal(slowReply.status, 200);
  assert.equal(slowReply.body.toString(), 'slow 600');
  assert.equal(header(slowReply, 'x-server'), 'old');
  assert.equal(oldUp.requests, 2);
});

test('hot reload: the old upstream connection pool is closed, not reused', async (t) => {
  const oldUp = await startUpstream('ok', { name: 'old' });
  t.after(() => oldUp.close());
  const gw = await startGateway(simpleConfig([oldUp.url]));
  t.after(() => gw.close());
  assert.equal(parseEcho(await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\n\r\n')).server, 'old');
  // Same server, new config generation: a new pool.
  const text = `listen: [{ address: 127.0.0.1:0 }]\n${simpleConfig([oldUp.url], '    keepalive: { max_idle: 4 }')}`;
  await gw.gateway.reload(parseConfigText(text, 'reload.yaml'));
  assert.equal(parseEcho(await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\n\r\n')).server, 'old');
  assert.equal(oldUp.connections, 2);
});

test('hot reload that changes the listen address moves the listener', async (t) => {
  const up = await startUpstream('ok', { name: 'a' });
  t.after(() => up.close());
  const gw = await startGateway(simpleConfig([up.url]));
  t.after(() => gw.close());
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const newPort = (free.address() as net.AddressInfo).port;
  await new Promise<void>((r) => free.close(() => r()));
  const text = `listen: [{ address: 127.0.0.1:${newPort} }]\n${simpleConfig([up.url])}`;
  await gw.gateway.reload(parseConfigText(text, 'reload.yaml'));
  const reply = await rawRequest(newPort, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 200);
  assert.equal(await connectOutcome(gw.port), 'ECONNREFUSED');
});
