/**
 * Malformed and ambiguous requests (the raw material of request smuggling) are refused with 400 at
 * the gateway: they never reach the upstream, the connection is closed after the answer, and the
 * gateway goes on serving every other client.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { header, parseEcho, RawConnection, rawRequest } from '../support/wire.js';

const CASES: ReadonlyArray<readonly [string, string, number]> = [
  ['a bad header name token', 'GET /echo HTTP/1.1\r\nHost: t\r\nBad@Name: x\r\n\r\n', 400],
  ['whitespace before the colon', 'GET /echo HTTP/1.1\r\nHost: t\r\nX-A : x\r\n\r\n', 400],
  [
    'Content-Length with Transfer-Encoding',
    'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
  ],
  [
    'two different Content-Lengths',
    'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    400,
  ],
  ['bare LF line endings', 'GET /echo HTTP/1.1\nHost: t\n\n', 400],
  ['a bare LF inside the head', 'GET /echo HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n', 400],
  ['obs-fold (a continuation line)', 'GET /echo HTTP/1.1\r\nHost: t\r\nX-A: b\r\n c\r\n\r\n', 400],
  ['a missing Host in HTTP/1.1', 'GET /echo HTTP/1.1\r\nX-A: b\r\n\r\n', 400],
  ['two Host fields', 'GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['a NUL in a field value', 'GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n', 400],
  [
    'Transfer-Encoding in HTTP/1.0',
    'POST /upload HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
  ],
  ['a transfer coding other than chunked', 'POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
  ['a malformed request line', 'GET  /echo HTTP/1.1\r\nHost: t\r\n\r\n', 400],
  ['a negative Content-Length', 'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n', 400],
  ['HTTP/2.0 in an HTTP/1 request line', 'GET /echo HTTP/2.0\r\nHost: t\r\n\r\n', 505],
];

for (const [name, request, status] of CASES) {
  test(`refused: ${name} → ${status}`, async (t) => {
    const upstream = await startUpstream('ok', { name: 'a' });
    t.after(() => upstream.close());
    const gw = await startGateway(simpleConfig([upstream.url]));
    t.after(() => gw.close());
    // Another client is mid keep-alive while the bad request arrives: it must not notice.
    const other = await RawConnection.open(gw.port);
    t.after(() => other.destroy());
    other.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.equal((await other.readReply()).status, 200);

    const reply = await rawRequest(gw.port, request);
    assert.equal(reply.status, status);
    assert.equal(header(reply, 'connection'), 'close');
    assert.equal(upstream.requests, 1, 'the malformed request reached the upstream');

    other.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
    const again = await other.readReply();
    assert.equal(again.status, 200);
    assert.equal(parseEcho(again).server, 'a');
  });
}

test('bad chunked framing in the middle of a body aborts that request only', async (t) => {
  const upstream = await startUpstream('ok', { name: 'a' });
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url]));
  t.after(() => gw.close());
  const c = await RawConnection.open(gw.port);
  t.after(() => c.destroy());
  c.write('POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n');
  await c.waitClose(5000);
  const text = c.unread.toString('latin1');
  assert.ok(!/^HTTP\/1\.1 200 /.test(text), text);
  const ok = await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(ok.status, 200);
});

test('a smuggled second request after a body is not hidden inside it', async (t) => {
  // The body is exactly Content-Length bytes; the bytes after it are a request of their own and are
  // answered as such, in order.
  const upstream = await startUpstream('ok', { name: 'a' });
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url]));
  t.after(() => gw.close());
  const c = await RawConnection.open(gw.port);
  t.after(() => c.destroy());
  c.write(
    'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcdGET /echo?second HTTP/1.1\r\nHost: t\r\n\r\n',
  );
  const first = await c.readReply();
  assert.equal((JSON.parse(first.body.toString()) as { bytes: number }).bytes, 4);
  const second = await c.readReply();
  assert.equal(parseEcho(second).url, '/echo?second');
});
