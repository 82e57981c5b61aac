/**
 * What goes through the gateway on the wire: bodies streamed both ways, hop-by-hop fields removed,
 * forwarding fields, Via and request ids, Expect: 100-continue and HTTP/1.0 clients.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { patternBody, startUpstream } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import {
  delay,
  echoNames,
  echoValues,
  header,
  httpRequest,
  openRaw,
  parseEcho,
  patternSha256,
  rawRequest,
  sha256,
  writePattern,
} from '../support/wire.js';

type T = import('node:test').TestContext;

async function setup(t: T, extra = '', top = '') {
  const upstream = await startUpstream('ok', { name: 'a' });
  t.after(() => upstream.close());
  const gw = await startGateway(`${top}${simpleConfig([upstream.url], extra)}`);
  t.after(() => gw.close());
  return { upstream, gw };
}

const MB20 = 20 * 1024 * 1024;

test('a 20 MB upload with Content-Length reaches the upstream byte for byte', async (t) => {
  const { gw } = await setup(t);
  const res = await httpRequest(gw.port, {
    method: 'POST',
    path: '/upload',
    headers: { 'Content-Length': String(MB20), 'Content-Type': 'application/octet-stream' },
    body: (req) => writePattern(req, MB20),
    timeoutMs: 60000,
  });
  assert.equal(res.status, 200);
  const got = JSON.parse(res.body.toString()) as { bytes: number; sha256: string };
  assert.equal(got.bytes, MB20);
  assert.equal(got.sha256, patternSha256(MB20));
});

test('a 20 MB chunked upload reaches the upstream byte for byte', async (t) => {
  const { gw } = await setup(t);
  const res = await httpRequest(gw.port, {
    method: 'POST',
    path: '/upload',
    headers: { 'Transfer-Encoding': 'chunked' },
    body: (req) => writePattern(req, MB20),
    timeoutMs: 60000,
  });
  assert.equal(res.status, 200, res.body.toString());
  const got = JSON.parse(res.body.toString()) as { bytes: number; sha256: string };
  assert.equal(got.bytes, MB20);
  assert.equal(got.sha256, patternSha256(MB20));
});

test('a chunked request reaches the upstream with exactly one Transfer-Encoding: chunked', async (t) => {
  const { gw } = await setup(t);
  const body = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
  const reply = await rawRequest(
    gw.port,
    `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(reply.status, 200, reply.body.toString());
  const echo = parseEcho(reply);
  assert.deepEqual(echoValues(echo, 'transfer-encoding'), ['chunked']);
  assert.equal(echo.body.bytes, 11);
  assert.equal(echo.body.sha256, sha256(Buffer.from('hello world')));
});

test('a 20 MB download (Content-Length and chunked) arrives complete', async (t) => {
  const { gw } = await setup(t);
  for (const path of [`/bytes/${MB20}`, `/chunked/${MB20}`]) {
    const res = await httpRequest(gw.port, { path, timeoutMs: 60000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, MB20, path);
    assert.equal(sha256(res.body), patternSha256(MB20), path);
  }
});

test('a chunked download reaches the client with exactly one Transfer-Encoding: chunked', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(gw.port, 'GET /chunked/10000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.headers.get('transfer-encoding'), ['chunked']);
  assert.equal(reply.body.length, 10000);
  assert.ok(reply.body.equals(patternBody(10000)));
});

test('a slow reader does not make the gateway buffer the response (200 MB relayed, RSS bounded)', async (t) => {
  const { gw } = await setup(t);
  const total = 200 * 1024 * 1024;
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  t.after(() => clearInterval(sampler));
  const c = await openRaw(t, gw.port);
  c.socket.pause();
  c.write(`GET /bytes/${total} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  // Paused: the gateway must stop reading the upstream instead of buffering.
  await delay(1500);
  const pausedPeak = Math.max(peak, process.memoryUsage().rss);
  // Then read slowly: small pauses between reads, bounded in total time.
  let received = 0;
  const hash = (await import('node:crypto')).createHash('sha256');
  let headDone = false;
  let pending = Buffer.alloc(0);
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received} of ${total} body bytes within 90 s`)), 90000);
    c.socket.removeAllListeners('data');
    c.socket.on('data', (chunk: Buffer) => {
      if (!headDone) {
        pending = Buffer.concat([pending, chunk]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        headDone = true;
        chunk = pending.subarray(end + 4);
      }
      received += chunk.length;
      hash.update(chunk);
      if (received >= total) {
        clearTimeout(timer);
        resolve();
        return;
      }
      // A slow reader: pause briefly every ~4 MB.
      if (received % (4 * 1024 * 1024) < chunk.length) {
        c.socket.pause();
        setTimeout(() => c.socket.resume(), 20);
      }
    });
    c.socket.on('close', () => {
      if (received < total) {
        clearTimeout(timer);
        reject(new Error(`connection closed after ${received} of ${total} bytes`));
      }
    });
  });
  c.socket.resume();
  await done;
  clearInterval(sampler);
  assert.equal(hash.digest('hex'), patternSha256(total));
  const growth = peak - before;
  assert.ok(pausedPeak - before < 100 * 1024 * 1024, `RSS grew by ${pausedPeak - before} bytes while paused`);
  assert.ok(growth < 100 * 1024 * 1024, `RSS grew by ${growth} bytes while relaying ${total}`);
});

test('Expect: 100-continue: the client gets 100 before it sends the body, then the answer', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const interim = await c.readReply({ timeoutMs: 5000 });
  assert.equal(interim.status, 100);
  c.write('hello');
  const final = await c.readReply();
  assert.equal(final.status, 200);
  const got = JSON.parse(final.body.toString()) as { bytes: number; sha256: string };
  assert.equal(got.bytes, 5);
  assert.equal(got.sha256, sha256(Buffer.from('hello')));
});

test('hop-by-hop request fields never reach the upstream', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\n' +
      'Connection: keep-alive, X-Secret-Hop, x-other-hop\r\n' +
      'X-Secret-Hop: 1\r\nX-Other-Hop: 2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
      'Upgrade: h2c\r\nProxy-Connection: keep-alive\r\nX-End-To-End: kept\r\n\r\n',
  );
  assert.equal(reply.status, 200);
  const names = echoNames(parseEcho(reply));
  for (const hop of ['x-secret-hop', 'x-other-hop', 'keep-alive', 'te', 'upgrade', 'proxy-connection']) {
    assert.ok(!names.includes(hop), `${hop} reached the upstream: ${names.join(', ')}`);
  }
  // Connection goes upstream only as this hop's own (keep-alive needs none in HTTP/1.1).
  assert.deepEqual(
    echoValues(parseEcho(reply), 'connection').filter((v) => /secret|other/i.test(v)),
    [],
  );
  assert.deepEqual(echoValues(parseEcho(reply), 'x-end-to-end'), ['kept']);
});

test('a client Transfer-Encoding line is re-framed, not forwarded as sent', async (t) => {
  const { gw } = await setup(t);
  const body = '3\r\nabc\r\n0\r\n\r\n';
  const reply = await rawRequest(
    gw.port,
    `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:   CHUNKED\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(reply.status, 200, reply.body.toString());
  const echo = parseEcho(reply);
  assert.equal(echo.body.bytes, 3);
  assert.equal(echoValues(echo, 'transfer-encoding').length, 1, JSON.stringify(echo.rawHeaders));
});

test('hop-by-hop response fields never reach the client', async (t) => {
  // A raw upstream that answers with hop-by-hop fields of its own.
  const net = await import('node:net');
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.end(
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Hop-Resp\r\nX-Hop-Resp: 1\r\n' +
          'Keep-Alive: timeout=9\r\nProxy-Connection: close\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\nok',
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const gw = await startGateway(simpleConfig([`http://127.0.0.1:${port}`]));
  t.after(() => gw.close());
  const reply = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.toString(), 'ok');
  for (const hop of ['x-hop-resp', 'keep-alive', 'proxy-connection', 'te', 'upgrade']) {
    assert.equal(header(reply, hop), undefined, `${hop} reached the client`);
  }
  // The upstream's Connection: close is about the upstream hop, not the client's connection.
  assert.ok(!/x-hop-resp/i.test(header(reply, 'connection') ?? ''));
  assert.equal(header(reply, 'x-kept'), 'yes');
});

test('X-Forwarded-* and Forwarded from an untrusted client are replaced', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: app.example.com\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n' +
      'X-Forwarded-Host: evil.example\r\nForwarded: for=6.6.6.6;proto=https\r\nConnection: close\r\n\r\n',
  );
  const echo = parseEcho(reply);
  assert.deepEqual(echoValues(echo, 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(echoValues(echo, 'x-forwarded-proto'), ['http']);
  assert.deepEqual(echoValues(echo, 'x-forwarded-host'), ['app.example.com']);
  assert.deepEqual(echoValues(echo, 'forwarded'), ['for=127.0.0.1;proto=http;host=app.example.com']);
});

test('X-Forwarded-For and Forwarded from a trusted proxy are extended', async (t) => {
  const { gw } = await setup(t, '', 'trust_proxies: [127.0.0.1]\n');
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: app.example.com\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n' +
      'X-Forwarded-Host: public.example\r\nForwarded: for=203.0.113.7;proto=https\r\nConnection: close\r\n\r\n',
  );
  const echo = parseEcho(reply);
  assert.deepEqual(echoValues(echo, 'x-forwarded-for'), ['203.0.113.7, 127.0.0.1']);
  assert.deepEqual(echoValues(echo, 'x-forwarded-proto'), ['https']);
  assert.deepEqual(echoValues(echo, 'x-forwarded-host'), ['public.example']);
  assert.deepEqual(echoValues(echo, 'forwarded'), [
    'for=203.0.113.7;proto=https, for=127.0.0.1;proto=http;host=app.example.com',
  ]);
});

test('Via: 1.1 gatewise is added on the request and on the response', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nVia: 1.1 edge-proxy\r\nConnection: close\r\n\r\n',
  );
  assert.equal(reply.status, 200);
  const via = echoValues(parseEcho(reply), 'via').join(', ');
  assert.match(via, /^1\.1 edge-proxy, 1\.1 gatewise$/);
  assert.equal(header(reply, 'via'), '1.1 gatewise');
});

test('a request whose Via already names gatewise is refused with 508', async (t) => {
  const { gw, upstream } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nVia: 1.1 gatewise\r\nConnection: close\r\n\r\n',
  );
  assert.equal(reply.status, 508);
  assert.equal(header(reply, 'proxy-status'), 'gatewise; error=proxy_loop_detected');
  assert.equal(upstream.requests, 0);
});

test('a sane X-Request-Id is kept and sent both ways', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nX-Request-Id: trace-abc.123\r\nConnection: close\r\n\r\n',
  );
  assert.deepEqual(echoValues(parseEcho(reply), 'x-request-id'), ['trace-abc.123']);
  assert.equal(header(reply, 'x-request-id'), 'trace-abc.123');
});

for (const [name, bad] of [
  ['300 characters', 'a'.repeat(300)],
  ['with spaces', 'has some spaces'],
  ['with quotes and angle brackets', '"><script>'],
] as const) {
  test(`an X-Request-Id ${name} is replaced, upstream and back`, async (t) => {
    const { gw } = await setup(t);
    const reply = await rawRequest(
      gw.port,
      `GET /echo HTTP/1.1\r\nHost: t\r\nX-Request-Id: ${bad}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(reply.status, 200);
    const up = echoValues(parseEcho(reply), 'x-request-id');
    assert.equal(up.length, 1);
    assert.notEqual(up[0], bad);
    assert.match(up[0]!, /^[A-Za-z0-9._:@/+=-]{1,128}$/);
    assert.equal(header(reply, 'x-request-id'), up[0]);
  });
}

test('an X-Request-Id from the upstream is not sent to the client next to ours', async (t) => {
  const net = await import('node:net');
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Request-Id: upstream-own\r\nConnection: close\r\n\r\n'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const gw = await startGateway(simpleConfig([`http://127.0.0.1:${port}`]));
  t.after(() => gw.close());
  const reply = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: client-id\r\n\r\n');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.headers.get('x-request-id'), ['client-id']);
});

test('an HTTP/1.0 client of a chunked-answering upstream gets a valid HTTP/1.0 reply', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(gw.port, 'GET /chunked/5000 HTTP/1.0\r\nHost: t\r\n\r\n');
  assert.equal(reply.status, 200);
  assert.match(reply.statusLine, /^HTTP\/1\.[01] 200/);
  // An HTTP/1.0 client cannot decode chunked (RFC 9112 §6.1).
  assert.equal(header(reply, 'transfer-encoding'), undefined);
  assert.equal(reply.body.length, 5000);
  assert.ok(reply.body.equals(patternBody(5000)));
});

test('an HTTP/1.0 POST with a body is forwarded and answered', async (t) => {
  const { gw } = await setup(t);
  const reply = await rawRequest(gw.port, 'POST /upload HTTP/1.0\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd');
  assert.equal(reply.status, 200);
  const got = JSON.parse(reply.body.toString()) as { bytes: number };
  assert.equal(got.bytes, 4);
});

test('proxy.request_id_header names the field the id travels in, both ways', async (t) => {
  const { gw } = await setup(t, '', 'proxy: { request_id_header: X-Correlation-Id }\n');
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nX-Correlation-Id: corr-42\r\nConnection: close\r\n\r\n',
  );
  assert.equal(reply.status, 200);
  const echo = parseEcho(reply);
  assert.deepEqual(echoValues(echo, 'x-correlation-id'), ['corr-42']);
  assert.equal(header(reply, 'x-correlation-id'), 'corr-42');
  // The id travels in the configured field only.
  assert.deepEqual(echoValues(echo, 'x-request-id'), []);
  assert.equal(header(reply, 'x-request-id'), undefined);
});

test('proxy.via sets the pseudonym in Via and in loop detection', async (t) => {
  const { gw, upstream } = await setup(t, '', 'proxy: { via: edge-7 }\n');
  const ok = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nVia: 1.1 gatewise\r\nConnection: close\r\n\r\n',
  );
  assert.equal(ok.status, 200);
  assert.equal(echoValues(parseEcho(ok), 'via').join(', '), '1.1 gatewise, 1.1 edge-7');
  assert.equal(header(ok, 'via'), '1.1 edge-7');
  const loop = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nVia: 1.0 edge-7\r\nConnection: close\r\n\r\n',
  );
  assert.equal(loop.status, 508);
  assert.equal(upstream.requests, 1);
});

test('a client that goes away mid-response costs nothing: the gateway keeps serving', async (t) => {
  const { gw } = await setup(t);
  const net = await import('node:net');
  const socket = net.connect({ host: '127.0.0.1', port: gw.port });
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  socket.write(`GET /bytes/${MB20} HTTP/1.1\r\nHost: t\r\n\r\n`);
  // Gone as soon as the first bytes of the response arrive.
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.destroy();
  const record = await gw.nextAccess();
  assert.equal(record.status, 499);
  const reply = await rawRequest(gw.port, 'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 200);
});

test('a client Connection: close is honoured: answered with Connection: close, then closed', async (t) => {
  const { gw } = await setup(t);
  const c = await openRaw(t, gw.port);
  c.write('GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  const reply = await c.readReply();
  assert.equal(reply.status, 200);
  assert.equal(header(reply, 'connection'), 'close');
  await c.waitClose(3000);
});

test('an h2c upgrade request on plain HTTP/1.1 is answered as HTTP/1.1, not tunnelled', async (t) => {
  const { gw } = await setup(t);
  // What `curl --http2 http://...` sends. The gateway relays WebSocket upgrades only.
  const reply = await rawRequest(
    gw.port,
    'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  );
  assert.equal(reply.status, 200, reply.body.toString());
  const names = echoNames(parseEcho(reply));
  assert.ok(!names.includes('upgrade'), names.join(', '));
  assert.ok(!names.includes('http2-settings'), names.join(', '));
});
