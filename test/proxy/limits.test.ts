/**
 * Client-side limits as a user would hit them: head size, request line, header count, slow heads,
 * idle keep-alive connections, body size and slow bodies. Each answer is the documented status (or a
 * close), the upstream never sees the refused request, and the gateway goes on serving.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { delay, header, openRaw, parseEcho, rawRequest } from '../support/wire.js';

type T = import('node:test').TestContext;

const LIMITS = `limits:
  max_header_bytes: 2k
  max_request_line_bytes: 1k
  max_headers: 10
  headers_timeout: 1s
  request_timeout: 1500ms
  idle_timeout: 1s
  max_body_bytes: 1k
`;

async function setup(t: T) {
  const upstream = await startUpstream('ok', { name: 'a' });
  t.after(() => upstream.close());
  const gw = await startGateway(`${LIMITS}${simpleConfig([upstream.url])}`);
  t.after(() => gw.close());
  return { upstream, gw };
}

/** The gateway still serves a normal request after whatever the test did. */
async function stillServes(port: number): Promise<void> {
  const reply = await rawRequest(port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 200);
  assert.equal(parseEcho(reply).server, 'a');
}

test('a request head over max_header_bytes gets 431', async (t) => {
  const { gw, upstream } = await setup(t);
  const reply = await rawRequest(gw.port, `GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`);
  assert.equal(reply.status, 431);
  assert.equal(header(reply, 'connection'), 'close');
  assert.equal(upstream.requests, 0);
  await stillServes(gw.port);
});

test('a request head over max_header_bytes sent in small pieces gets 431 before it ends', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n');
  // 40 lines of 100 bytes, never the blank line: refused as soon as the limit is passed.
  for (let i = 0; i < 40 && !c.isClosed; i++) {
    c.write(`X-F${i}: ${'v'.repeat(92)}\r\n`);
    await delay(5);
  }
  const reply = await c.readReply({ timeoutMs: 3000 });
  assert.equal(reply.status, 431);
});

test('a request line over max_request_line_bytes gets 414', async (t) => {
  const { gw, upstream } = await setup(t);
  const reply = await rawRequest(gw.port, `GET /echo?${'q'.repeat(1500)} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.equal(reply.status, 414);
  assert.equal(upstream.requests, 0);
  await stillServes(gw.port);
});

test('more than max_headers fields gets 431', async (t) => {
  const { gw, upstream } = await setup(t);
  const fields = Array.from({ length: 11 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
  const reply = await rawRequest(gw.port, `GET /echo HTTP/1.1\r\nHost: t\r\n${fields}\r\n`);
  assert.equal(reply.status, 431);
  assert.equal(upstream.requests, 0);
  await stillServes(gw.port);
});

test('slowloris: half a head then nothing is answered 408 (or closed) after headers_timeout', async (t) => {
  const { gw, upstream } = await setup(t);
  const c = await openRaw(t, gw.port);
  const started = Date.now();
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: 1\r\n');
  await c.waitClose(5000);
  const text = c.unread.toString('latin1');
  assert.ok(text === '' || /^HTTP\/1\.1 408 /.test(text), text);
  assert.ok(Date.now() - started >= 900, 'closed before headers_timeout');
  assert.equal(upstream.requests, 0);
  await stillServes(gw.port);
});

test('slowloris: a head dripped one field at a time still ends at headers_timeout', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n');
  const stop = Date.now() + 4000;
  let i = 0;
  while (!c.isClosed && Date.now() < stop) {
    c.write(`X-D${i++}: y\r\n`);
    await delay(200);
  }
  assert.equal(c.isClosed, true, 'a dripping client kept its connection past headers_timeout');
});

test('a connection that never sends a byte is closed after headers_timeout', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  await c.waitClose(5000);
});

test('idle_timeout closes an idle keep-alive connection', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.equal((await c.readReply()).status, 200);
  const idleFrom = Date.now();
  await c.waitClose(5000);
  assert.ok(Date.now() - idleFrom >= 900, 'closed before idle_timeout');
});

test('a keep-alive connection in use is not closed by idle_timeout', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  // Requests every 400 ms for 2.4 s: never idle for 1 s.
  for (let i = 0; i < 6; i++) {
    c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.equal((await c.readReply()).status, 200);
    await delay(400);
  }
  assert.equal(c.isClosed, false);
});

test('a Content-Length over max_body_bytes gets 413 and nothing reaches the upstream', async (t) => {
  const { gw, upstream } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    `POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n${'x'.repeat(2000)}`,
  );
  assert.equal(reply.status, 413);
  assert.equal(upstream.requests, 0);
  await stillServes(gw.port);
});

test('a chunked body over max_body_bytes gets 413, not forwarded whole', async (t) => {
  const { gw, upstream } = await setup(t);
  const chunk = 'y'.repeat(500);
  const body = `1f4\r\n${chunk}\r\n1f4\r\n${chunk}\r\n1f4\r\n${chunk}\r\n1f4\r\n${chunk}\r\n0\r\n\r\n`;
  const reply = await rawRequest(
    gw.port,
    `POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(reply.status, 413, `status ${reply.status}: ${reply.body.toString()}`);
  // Whatever reached the upstream, it is not the 2000-byte body accepted as a whole.
  assert.equal(upstream.requests, 0);
});

test('a body at exactly max_body_bytes is forwarded', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    `POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n${'z'.repeat(1024)}`,
  );
  assert.equal(reply.status, 200);
  assert.equal((JSON.parse(reply.body.toString()) as { bytes: number }).bytes, 1024);
});

test('a body slower than request_timeout ends the exchange and the gateway keeps serving', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc');
  await c.waitClose(5000);
  const text = c.unread.toString('latin1');
  assert.ok(text === '' || /^HTTP\/1\.1 408 /.test(text), text);
  await stillServes(gw.port);
});
