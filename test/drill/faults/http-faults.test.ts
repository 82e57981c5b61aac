/** Gatewise's HTTP-level faults: answers in place of a real upstream, seen by real HTTP clients. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, errors } from 'undici';
import { FaultProxyError } from '../../../src/drill/faults/index.js';
import { SSH_BANNER, startUpstream } from '../../../src/drill/upstreams.js';
import { exchange, proxyTo, startFaults } from './helpers.js';

const CLOCK_SLACK_MS = 2;

async function okUpstream(t: import('node:test').TestContext) {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  return upstream;
}

function client(t: import('node:test').TestContext, port: number): Client {
  const undiciClient = new Client(`http://127.0.0.1:${port}`);
  t.after(() => undiciClient.close());
  return undiciClient;
}

test('http_status answers every request on a kept-alive connection, and the upstream never sees one', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [
    { type: 'http_status', attributes: { status: 503, body: 'drill' } },
  ]);
  const http = client(t, port);

  const get = await http.request({ path: '/health', method: 'GET' });
  assert.equal(get.statusCode, 503);
  assert.equal(await get.body.text(), 'drill');
  const post = await http.request({ path: '/upload', method: 'POST', body: 'x'.repeat(10_000) });
  assert.equal(post.statusCode, 503);
  assert.equal(await post.body.text(), 'drill');
  const head = await http.request({ path: '/', method: 'HEAD' });
  assert.equal(head.statusCode, 503);
  assert.equal(await head.body.text(), '');

  assert.equal(upstream.connections, 1, 'one client connection, one upstream connection');
  assert.equal(upstream.requests, 0, 'no request reached the upstream');
});

test('http_status skips chunked bodies and honours Connection: close', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'http_status', attributes: { status: 502 } }]);
  const requests =
    'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const received = await exchange(t, port, requests, 3000).done;
  assert.equal(received.ending, 'end');
  const text = received.bytes.toString('latin1');
  assert.equal(text.match(/HTTP\/1\.1 502 Bad Gateway\r\n/g)?.length, 2, text);
  assert.match(text, /Connection: close\r\n\r\n$/);
  assert.equal(upstream.requests, 0);
});

test('removing an HTTP fault lets new connections reach the upstream again', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'http_status', attributes: { status: 500 } }]);
  const faulty = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').done;
  assert.match(faulty.bytes.toString(), /^HTTP\/1\.1 500 /);
  faults.removeToxic('service', 'http_status_downstream');
  const healthy = await exchange(t, port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').done;
  assert.match(healthy.bytes.toString(), /^HTTP\/1\.1 200 /);
  assert.match(healthy.bytes.toString(), /\r\n\r\nok$/);
});

test('garbage answers with non-HTTP bytes and closes: an SSH banner, or N random bytes', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'garbage' }]);
  const banner = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').done;
  assert.equal(banner.ending, 'end');
  assert.equal(banner.bytes.toString('latin1'), SSH_BANNER);

  faults.updateToxic('service', 'garbage_downstream', { attributes: { bytes: 300 } });
  const random = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').done;
  assert.equal(random.bytes.length, 300);
  assert.equal(random.bytes[0], 0xff);

  await assert.rejects(client(t, port).request({ path: '/', method: 'GET' }), (error: Error) => {
    assert.ok(error instanceof errors.HTTPParserError || error instanceof errors.SocketError, String(error));
    return true;
  });
  assert.equal(upstream.requests, 0);
});

test('huge_header answers with a response head larger than `size`, which an HTTP client refuses', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'huge_header', attributes: { size: 20_000 } }]);
  const received = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').done;
  const headEnd = received.bytes.indexOf('\r\n\r\n');
  assert.ok(headEnd + 4 > 20_000, `head of ${headEnd + 4} bytes`);
  assert.match(received.bytes.subarray(0, 17).toString(), /^HTTP\/1\.1 200 OK\r\n/);
  // undici's default limit is 16 KiB of head.
  await assert.rejects(client(t, port).request({ path: '/', method: 'GET' }), errors.HeadersOverflowError);
});

test('tls_reply answers a plain HTTP request with a TLS alert record and closes', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'tls_reply' }]);
  const received = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').done;
  assert.equal(received.ending, 'end');
  // RFC 8446 §5.1 and §6: alert record, TLS 1.2 legacy version, 2 bytes: fatal, unexpected_message.
  assert.deepEqual([...received.bytes], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);
});

test('HTTP faults go through the downstream toxics after them (here latency)', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [
    { type: 'http_status', attributes: { status: 504 } },
    { type: 'latency', attributes: { latency: 120 } },
  ]);
  const received = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 3000).done;
  assert.match(received.bytes.toString(), /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
  assert.ok(received.firstByteMs! >= 120 - CLOCK_SLACK_MS, `first byte after ${received.firstByteMs} ms`);
});

test('HTTP faults apply downstream only, and their attributes are checked', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  await proxyTo(faults, upstream.port);
  assert.throws(
    () => faults.addToxic('service', { type: 'http_status', stream: 'upstream' }),
    (error: unknown) => error instanceof FaultProxyError && error.status === 400 && error.kind === 'invalid_stream',
  );
  assert.throws(
    () => faults.addToxic('service', { type: 'http_status', attributes: { status: 101 } }),
    (error: unknown) => error instanceof FaultProxyError && error.status === 400 && /200\.\.599/.test(error.message),
  );
  assert.deepEqual(faults.listToxics('service'), []);
});

test('http_status: a bad request head is answered once and closed; broken chunked framing closes without a second answer', async (t) => {
  const faults = await startFaults(t);
  const upstream = await okUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'http_status', attributes: { status: 503 } }]);

  const badHead = await exchange(t, port, 'NOT HTTP AT ALL\r\n\r\n', 3000).done;
  assert.equal(badHead.ending, 'end');
  assert.match(badHead.bytes.toString(), /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*Connection: close\r\n\r\n$/);

  const badBody = await exchange(
    t,
    port,
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    3000,
  ).done;
  assert.equal(badBody.ending, 'end');
  assert.equal(badBody.bytes.toString().match(/HTTP\/1\.1 503/g)?.length, 1, badBody.bytes.toString());
  assert.equal(upstream.requests, 0);
});
