/**
 * Connection management both sides: client keep-alive and pipelining, upstream connection reuse,
 * bodiless responses, close-delimited and chunked-with-trailers bodies, and an upstream whose
 * keep-alive timeout is shorter than ours.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { patternBody, startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { startRawUpstream } from '../support/raw-upstream.js';
import { delay, header, openRaw, parseEcho, rawRequest } from '../support/wire.js';

type T = import('node:test').TestContext;

async function setup(t: T, extra = '', options: { keepAliveTimeoutS?: number } = {}) {
  const upstream = await startUpstream('ok', { name: 'a', ...options });
  t.after(() => upstream.close());
  const gw = await startGateway(simpleConfig([upstream.url], extra));
  t.after(() => gw.close());
  return { upstream, gw };
}

test('sequential requests on one client connection share one upstream connection', async (t) => {
  const { gw, upstream } = await setup(t);
  const c = await openRaw(t, gw.port);
  for (let i = 0; i < 20; i++) {
    c.write(`GET /echo?n=${i} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const reply = await c.readReply();
    assert.equal(reply.status, 200);
    assert.equal(parseEcho(reply).url, `/echo?n=${i}`);
    assert.equal(header(reply, 'connection'), undefined);
  }
  assert.equal(c.isClosed, false);
  assert.equal(upstream.requests, 20);
  assert.equal(upstream.connections, 1);
});

test('sequential requests from separate client connections reuse pooled upstream connections', async (t) => {
  const { gw, upstream } = await setup(t);
  for (let i = 0; i < 5; i++) {
    const reply = await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    assert.equal(reply.status, 200);
  }
  assert.equal(upstream.connections, 1);
});

test('pipelined requests in one write are answered in order', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write(
    'GET /slow/300 HTTP/1.1\r\nHost: t\r\n\r\n' +
      'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc' +
      'GET /echo?third HTTP/1.1\r\nHost: t\r\n\r\n',
  );
  const first = await c.readReply();
  assert.equal(first.body.toString(), 'slow 300');
  const second = await c.readReply();
  assert.equal((JSON.parse(second.body.toString()) as { bytes: number }).bytes, 3);
  const third = await c.readReply();
  assert.equal(parseEcho(third).url, '/echo?third');
  assert.equal(c.isClosed, false);
});

test('an HTTP/1.0 client without keep-alive gets Connection: close and a closed connection', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('GET /bytes/100 HTTP/1.0\r\nHost: t\r\n\r\n');
  const reply = await c.readReply();
  assert.equal(reply.status, 200);
  assert.equal(reply.body.length, 100);
  assert.equal(header(reply, 'connection'), 'close');
  await c.waitClose(3000);
});

test('an HTTP/1.0 client asking for keep-alive keeps its connection', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  for (let i = 0; i < 2; i++) {
    c.write('GET /bytes/10 HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n');
    const reply = await c.readReply();
    assert.equal(reply.status, 200);
    assert.equal(header(reply, 'connection')?.toLowerCase(), 'keep-alive');
    assert.equal(reply.body.length, 10);
  }
  assert.equal(c.isClosed, false);
});

test('HEAD, 204 and 304 carry no body and the connection stays usable', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('HEAD /bytes/500 HTTP/1.1\r\nHost: t\r\n\r\n');
  const head = await c.readReply({ method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(header(head, 'content-length'), '500');
  for (const code of [204, 304]) {
    c.write(`GET /status/${code} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const reply = await c.readReply();
    assert.equal(reply.status, code);
  }
  // Had any body byte followed, it would be read here as the start of the next reply.
  c.write('GET /bytes/7 HTTP/1.1\r\nHost: t\r\n\r\n');
  const next = await c.readReply();
  assert.equal(next.statusLine.slice(0, 12), 'HTTP/1.1 200');
  assert.equal(next.body.toString(), 'ABCDEFG');
  await delay(50);
  assert.equal(c.unread.length, 0);
});

test('a close-delimited upstream body is relayed completely', async (t) => {
  const body = patternBody(300_000);
  const up = await startRawUpstream((r) => {
    r.socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
    // In pieces, then a clean close ends the body (RFC 9112 §6.3 rule 8).
    let off = 0;
    const step = (): void => {
      if (off >= body.length) {
        r.socket.end();
        return;
      }
      r.socket.write(body.subarray(off, off + 65536));
      off += 65536;
      setTimeout(step, 5);
    };
    step();
  });
  t.after(() => up.close());
  const gw = await startGateway(simpleConfig([up.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET /stream HTTP/1.1\r\nHost: t\r\n\r\n');
  const reply = await c.readReply();
  assert.equal(reply.status, 200);
  assert.ok(reply.body.equals(body), `got ${reply.body.length} of ${body.length} bytes`);
  const record = await gw.nextAccess();
  assert.equal(record.failure, null);
  assert.equal(record.status, 200);
});

test('a chunked response with trailers is relayed intact', async (t) => {
  const wire = '5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: abc123\r\nX-Count: 2\r\n\r\n';
  const up = await startRawUpstream((r) => {
    r.socket.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Count\r\n\r\n${wire}`);
  });
  t.after(() => up.close());
  const gw = await startGateway(simpleConfig([up.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET / HTTP/1.1\r\nHost: t\r\nTE: trailers\r\n\r\n');
  const reply = await c.readReply();
  assert.equal(reply.status, 200);
  assert.equal(reply.body.toString(), 'hello, world');
  assert.deepEqual(reply.trailers, [
    ['X-Checksum', 'abc123'],
    ['X-Count', '2'],
  ]);
  assert.deepEqual(reply.headers.get('transfer-encoding'), ['chunked']);
  // The connection is still good for another request.
  c.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  const again = await c.readReply();
  assert.equal(again.body.toString(), 'hello, world');
});

test('an upstream keep-alive timeout shorter than ours causes no client error', async (t) => {
  const { gw, upstream } = await setup(t, '', { keepAliveTimeoutS: 1 });
  const c = await openRaw(t, gw.port);
  for (let i = 0; i < 3; i++) {
    c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
    const reply = await c.readReply();
    assert.equal(reply.status, 200, `request ${i}: ${reply.body.toString()}`);
    if (i < 2) await delay(1200);
  }
  assert.equal(upstream.requests, 3);
  assert.equal(gw.access.filter((r) => r.status !== 200).length, 0);
});

test('an upstream that silently drops an idle connection: the next request is retried on a fresh one', async (t) => {
  // Answers the first request of each connection, then closes as soon as a second one arrives:
  // what a keep-alive race with the server's idle timeout looks like from the gateway.
  const up = await startRawUpstream((r) => {
    if (r.index === 0) r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else r.socket.destroy();
  });
  t.after(() => up.close());
  const gw = await startGateway(simpleConfig([up.url], '    retries: { attempts: 1 }'));
  t.after(() => gw.close());
  for (let i = 0; i < 3; i++) {
    const reply = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    assert.equal(reply.status, 200, `request ${i}`);
    assert.equal(reply.body.toString(), 'ok');
  }
});

test('max_requests_per_connection closes the client connection after N requests', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(`limits: { max_requests_per_connection: 2 }\n${simpleConfig([upstream.url])}`);
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  const first = await c.readReply();
  assert.equal(header(first, 'connection'), undefined);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n');
  const second = await c.readReply();
  assert.equal(header(second, 'connection'), 'close');
  await c.waitClose(3000);
});

test('103 Early Hints reach an HTTP/1.1 client before the final response', async (t) => {
  const up = await startRawUpstream((r) => {
    r.socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
    setTimeout(() => r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone'), 50);
  });
  t.after(() => up.close());
  const gw = await startGateway(simpleConfig([up.url]));
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  const hints = await c.readReply();
  assert.equal(hints.status, 103);
  assert.equal(header(hints, 'link'), '</style.css>; rel=preload');
  const final = await c.readReply();
  assert.equal(final.status, 200);
  assert.equal(final.body.toString(), 'done');
});

test('Expect: 100-continue with a body over max_body_bytes gets 413 without waiting for the body', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(`limits: { max_body_bytes: 1k }\n${simpleConfig([upstream.url])}`);
  t.after(() => gw.close());
  const c = await openRaw(t, gw.port);
  c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
  const reply = await c.readReply({ timeoutMs: 3000 });
  assert.equal(reply.status, 413);
  assert.equal(upstream.requests, 0);
});
