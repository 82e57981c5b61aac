/**
 * WebSocket through the gateway: the RFC 6455 handshake is relayed, bytes flow both ways after the
 * 101 (including bytes sent with the handshake), and an idle tunnel is closed.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { delay, header, openRaw } from '../support/wire.js';

type T = import('node:test').TestContext;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

async function setup(t: T, extra = '') {
  const upstream = await startUpstream('ok', { name: 'ws' });
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url], extra));
  t.after(() => gw.close());
  return { upstream, gw };
}

function handshake(key: string, path = '/ws'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

test('WebSocket upgrade through the gateway: 101 and bytes echoed both ways', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  const key = randomBytes(16).toString('base64');
  c.write(handshake(key));
  const reply = await c.readReply();
  assert.equal(reply.status, 101);
  assert.equal(header(reply, 'upgrade')?.toLowerCase(), 'websocket');
  assert.equal(header(reply, 'connection')?.toLowerCase(), 'upgrade');
  assert.equal(header(reply, 'sec-websocket-accept'), createHash('sha1').update(`${key}${GUID}`).digest('base64'));
  assert.equal(header(reply, 'x-server'), 'ws');
  // The upstream echoes raw bytes; frames need no decoding to prove the tunnel.
  const payload = randomBytes(200_000);
  c.write(payload);
  const echoed = await c.take(payload.length);
  assert.ok(echoed.equals(payload));
});

test('bytes sent together with the handshake reach the upstream after the 101', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  const key = randomBytes(16).toString('base64');
  c.write(Buffer.concat([Buffer.from(handshake(key), 'latin1'), Buffer.from('early-bytes')]));
  const reply = await c.readReply();
  assert.equal(reply.status, 101);
  const echoed = await c.take('early-bytes'.length);
  assert.equal(echoed.toString(), 'early-bytes');
});

test('a refused upgrade (upstream answers 400) is relayed as a normal response', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write(handshake(randomBytes(16).toString('base64'), '/not-ws'));
  const reply = await c.readReply();
  assert.equal(reply.status, 400);
});

test('websocket idle_timeout closes a quiet tunnel', async (t) => {
  const { gw } = await setup(t, '    websocket: { idle_timeout: 1s }');
  const c = await openRaw(t, gw.port);
  c.write(handshake(randomBytes(16).toString('base64')));
  assert.equal((await c.readReply()).status, 101);
  // Traffic keeps it open...
  for (let i = 0; i < 3; i++) {
    if (i > 0) await delay(500);
    c.write('ping');
    assert.equal((await c.take(4)).toString(), 'ping');
  }
  assert.equal(c.isClosed, false, 'closed although traffic flowed');
  // ...silence closes it (the idle clock ticks every 100 ms, so allow that much early).
  const quietFrom = Date.now();
  await c.waitClose(5000);
  assert.ok(Date.now() - quietFrom >= 850, `closed after ${Date.now() - quietFrom} ms of silence`);
});

test('the upstream closing the tunnel closes the client side', async (t) => {
  const { gw, upstream } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write(handshake(randomBytes(16).toString('base64')));
  assert.equal((await c.readReply()).status, 101);
  await upstream.close();
  await c.waitClose(5000);
});
