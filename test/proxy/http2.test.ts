/**
 * The HTTPS listener: HTTP/1.1 and HTTP/2 chosen by ALPN, the same forwarding behaviour over both,
 * and the gateway's own error responses over HTTP/2.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { test } from 'node:test';
import type * as tls from 'node:tls';
import { startUpstream, TEST_TLS_FIXTURES } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { type EchoBody, echoValues, patternSha256, sha256 } from '../support/wire.js';

type T = import('node:test').TestContext;

const CA = readFileSync(TEST_TLS_FIXTURES.ca);

async function setup(t: T, behaviour: 'ok' | 'refuse' = 'ok', top = '') {
  const upstream = await startUpstream(behaviour, { name: 'a' });
  t.after(() => upstream.close());
  const gw = await startGateway(
    `listen: [{ address: 127.0.0.1:0, tls: { cert: ${TEST_TLS_FIXTURES.server}, key: ${TEST_TLS_FIXTURES.serverKey} } }]\n` +
      `${top}${simpleConfig([upstream.url], '    retries: { attempts: 1 }')}`,
  );
  t.after(() => gw.close());
  return { upstream, gw };
}

async function h2session(t: T, port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://localhost:${port}`, { ca: CA });
  t.after(() => session.destroy());
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  assert.equal(session.alpnProtocol, 'h2');
  return session;
}

interface H2Reply {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function h2request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer | ((s: http2.ClientHttp2Stream) => void),
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error('no HTTP/2 response within 30 s'));
    }, 30000);
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      responseHeaders = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ headers: responseHeaders, body: Buffer.concat(chunks) });
    });
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (typeof body === 'function') body(stream);
    else if (body !== undefined) stream.end(body);
  });
}

test('HTTPS with HTTP/1.1 (ALPN http/1.1): GET through the gateway', async (t) => {
  const { gw } = await setup(t);
  // ALPNProtocols is passed through to tls.connect; RequestOptions does not declare it.
  const options: https.RequestOptions & { ALPNProtocols: string[] } = {
    host: '127.0.0.1',
    port: gw.port,
    path: '/echo',
    ca: CA,
    servername: 'localhost',
    ALPNProtocols: ['http/1.1'],
    agent: false,
  };
  const reply = await new Promise<{ status: number; body: string; alpn: string | false | null }>((resolve, reject) => {
    const req = https.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, alpn: (res.socket as tls.TLSSocket).alpnProtocol }),
      );
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(reply.alpn, 'http/1.1');
  assert.equal(reply.status, 200);
  const echo = JSON.parse(reply.body) as EchoBody;
  assert.deepEqual(echoValues(echo, 'x-forwarded-proto'), ['https']);
  assert.deepEqual(echoValues(echo, 'via'), ['1.1 gatewise']);
});

test('HTTP/2: GET through the gateway becomes an HTTP/1.1 request upstream', async (t) => {
  const { gw } = await setup(t);
  const session = await h2session(t, gw.port);
  const reply = await h2request(session, { ':method': 'GET', ':path': '/echo?x=1', 'x-custom': 'v', te: 'trailers' });
  assert.equal(reply.headers[':status'], 200);
  assert.equal(reply.headers.via, '1.1 gatewise');
  assert.equal(typeof reply.headers['x-request-id'], 'string');
  const echo = JSON.parse(reply.body.toString()) as EchoBody;
  assert.equal(echo.method, 'GET');
  assert.equal(echo.url, '/echo?x=1');
  assert.equal(echo.httpVersion, '1.1');
  assert.deepEqual(echoValues(echo, 'host'), [`localhost:${gw.port}`]);
  assert.deepEqual(echoValues(echo, 'x-custom'), ['v']);
  assert.deepEqual(echoValues(echo, 'te'), []);
  assert.deepEqual(echoValues(echo, 'x-forwarded-proto'), ['https']);
  assert.deepEqual(echoValues(echo, 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(echoValues(echo, 'x-request-id'), [reply.headers['x-request-id']]);
});

test('HTTP/2: many concurrent streams on one session', async (t) => {
  const { gw } = await setup(t);
  const session = await h2session(t, gw.port);
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => h2request(session, { ':method': 'GET', ':path': `/echo?i=${i}` })),
  );
  replies.forEach((r, i) => {
    assert.equal(r.headers[':status'], 200);
    assert.equal((JSON.parse(r.body.toString()) as EchoBody).url, `/echo?i=${i}`);
  });
});

test('HTTP/2: POST bodies with and without content-length reach the upstream intact', async (t) => {
  const { gw } = await setup(t);
  const session = await h2session(t, gw.port);
  const body = Buffer.alloc(3 * 1024 * 1024 + 7, 0x61);
  const sized = await h2request(
    session,
    { ':method': 'POST', ':path': '/upload', 'content-length': String(body.length) },
    body,
  );
  assert.equal(sized.headers[':status'], 200, sized.body.toString());
  assert.deepEqual(JSON.parse(sized.body.toString()), { bytes: body.length, sha256: sha256(body) });
  const streamed = await h2request(session, { ':method': 'POST', ':path': '/upload' }, (s) => {
    s.write(body.subarray(0, 1000));
    setTimeout(() => s.end(body.subarray(1000)), 20);
  });
  assert.equal(streamed.headers[':status'], 200, streamed.body.toString());
  assert.deepEqual(JSON.parse(streamed.body.toString()), { bytes: body.length, sha256: sha256(body) });
});

test('HTTP/2: a 20 MB download arrives complete', async (t) => {
  const { gw } = await setup(t);
  const session = await h2session(t, gw.port);
  const total = 20 * 1024 * 1024;
  const reply = await h2request(session, { ':method': 'GET', ':path': `/chunked/${total}` });
  assert.equal(reply.headers[':status'], 200);
  assert.equal(reply.headers['transfer-encoding'], undefined);
  assert.equal(reply.body.length, total);
  assert.equal(sha256(reply.body), patternSha256(total));
});

test('HTTP/2: HEAD and 204 end the stream without a body', async (t) => {
  const { gw } = await setup(t);
  const session = await h2session(t, gw.port);
  const head = await h2request(session, { ':method': 'HEAD', ':path': '/bytes/100' });
  assert.equal(head.headers[':status'], 200);
  assert.equal(head.body.length, 0);
  const none = await h2request(session, { ':method': 'GET', ':path': '/status/204' });
  assert.equal(none.headers[':status'], 204);
  assert.equal(none.body.length, 0);
});

test('HTTP/2: a refused upstream is answered 502 with Proxy-Status', async (t) => {
  const { gw } = await setup(t, 'refuse');
  const session = await h2session(t, gw.port);
  const reply = await h2request(session, { ':method': 'GET', ':path': '/x', accept: 'application/json' });
  assert.equal(reply.headers[':status'], 502);
  assert.equal(reply.headers['proxy-status'], 'gatewise; error=connection_refused');
  assert.equal(reply.headers['content-type'], 'application/problem+json');
  const problem = JSON.parse(reply.body.toString()) as Record<string, unknown>;
  assert.equal(problem.proxy_status, 'connection_refused');
  assert.equal(problem.request_id, reply.headers['x-request-id']);
  // The session survives an error response.
  const again = await h2request(session, { ':method': 'GET', ':path': '/y' });
  assert.equal(again.headers[':status'], 502);
});

test('HTTP/2: no route is 404', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(
    `listen: [{ address: 127.0.0.1:0, tls: { cert: ${TEST_TLS_FIXTURES.server}, key: ${TEST_TLS_FIXTURES.serverKey} } }]
upstreams:
  api: { servers: [{ url: ${upstream.url} }] }
routes:
  - match: { path: /api }
    upstream: api
`,
  );
  t.after(() => gw.close());
  const session = await h2session(t, gw.port);
  const reply = await h2request(session, { ':method': 'GET', ':path': '/other' });
  assert.equal(reply.headers[':status'], 404);
  assert.equal(reply.headers['proxy-status'], 'gatewise; error=destination_not_found');
});

test('HTTP/2: a request whose Via already names gatewise is refused with 508', async (t) => {
  const { gw, upstream } = await setup(t);
  const session = await h2session(t, gw.port);
  const reply = await h2request(session, { ':method': 'GET', ':path': '/echo', via: '1.1 gatewise' });
  assert.equal(reply.headers[':status'], 508);
  assert.equal(upstream.requests, 0);
});

test('HTTP/2: a body over max_body_bytes is refused with 413', async (t) => {
  const { gw, upstream } = await setup(t, 'ok', 'limits: { max_body_bytes: 1k }\n');
  const session = await h2session(t, gw.port);
  const body = Buffer.alloc(4096, 0x62);
  const reply = await h2request(
    session,
    { ':method': 'POST', ':path': '/upload', 'content-length': String(body.length) },
    body,
  );
  assert.equal(reply.headers[':status'], 413);
  assert.equal(upstream.requests, 0);
});

test('HTTP/2: forwarding fields from an untrusted client are replaced', async (t) => {
  const { gw } = await setup(t);
  const session = await h2session(t, gw.port);
  const reply = await h2request(session, {
    ':method': 'GET',
    ':path': '/echo',
    'x-forwarded-for': '6.6.6.6',
    forwarded: 'for=6.6.6.6',
  });
  const echo = JSON.parse(reply.body.toString()) as EchoBody;
  assert.deepEqual(echoValues(echo, 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(echoValues(echo, 'forwarded'), [`for=127.0.0.1;proto=https;host="localhost:${gw.port}"`]);
});
