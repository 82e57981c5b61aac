import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import {
  CUT_CHUNKED_CHUNK_BYTES,
  CUT_CHUNKED_CHUNKS,
  CUT_LENGTH_SENT,
  GO_PLAIN_HTTP_ON_TLS_ANSWER,
  patternBody,
  SSH_BANNER,
  type StartedUpstream,
  startUpstream,
  TEST_CA_PATH,
  TEST_TLS_FIXTURES,
  UPSTREAM_BEHAVIOURS,
  type UpstreamBehaviour,
  type UpstreamOptions,
} from '../../src/drill/upstreams.js';
import { connectOutcome, connectTo, exchange, GET_HEALTH, splitHead, tlsConnectOutcome } from './wire.js';

const CA = readFileSync(TEST_CA_PATH);

async function start(
  t: TestContext,
  behaviour: UpstreamBehaviour,
  options?: UpstreamOptions,
): Promise<StartedUpstream> {
  const upstream = await startUpstream(behaviour, options);
  t.after(() => upstream.close());
  return upstream;
}

function client(t: TestContext, upstream: StartedUpstream, options: Client.Options = {}): Client {
  const origin = upstream.socketPath === undefined ? upstream.url : 'http://localhost';
  const socketPath = upstream.socketPath === undefined ? {} : { socketPath: upstream.socketPath };
  const undiciClient = new Client(origin, { ...socketPath, ...options });
  t.after(() => undiciClient.close());
  return undiciClient;
}

function temporaryDirectory(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-upstreams-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('every behaviour in the list starts and closes', async () => {
  for (const behaviour of UPSTREAM_BEHAVIOURS) {
    const upstream = await startUpstream(behaviour);
    try {
      assert.equal(upstream.behaviour, behaviour);
      assert.equal(upstream.host, '127.0.0.1');
      assert.ok(upstream.port > 0);
      const scheme = behaviour.startsWith('tls') || behaviour === 'plain_to_tls_400' ? 'https' : 'http';
      assert.equal(upstream.url, `${scheme}://127.0.0.1:${upstream.port}`);
    } finally {
      await upstream.close();
    }
  }
});

test('ok: /health, X-Server, keep-alive counters', async (t) => {
  const upstream = await start(t, 'ok', { name: 'alpha' });
  const http = client(t, upstream);
  for (let index = 0; index < 2; index++) {
    const response = await http.request({ method: 'GET', path: '/health' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-server'], 'alpha');
    assert.equal(await response.body.text(), 'ok');
  }
  assert.equal(upstream.connections, 1, 'both requests reuse one keep-alive connection');
  assert.equal(upstream.requests, 2);
});

test('ok: /echo returns method, url, headers and the server name', async (t) => {
  const upstream = await start(t, 'ok', { name: 'beta' });
  const response = await client(t, upstream).request({
    method: 'PUT',
    path: '/echo/some/path?q=1',
    headers: { 'x-trace': 'abc', 'content-type': 'text/plain' },
    body: 'hello',
  });
  assert.equal(response.statusCode, 200);
  const echoed = (await response.body.json()) as {
    server: string;
    method: string;
    url: string;
    headers: Record<string, string>;
    body: { bytes: number; sha256: string };
  };
  assert.equal(echoed.server, 'beta');
  assert.equal(echoed.method, 'PUT');
  assert.equal(echoed.url, '/echo/some/path?q=1');
  assert.equal(echoed.headers['x-trace'], 'abc');
  assert.equal(echoed.body.bytes, 5);
  assert.equal(echoed.body.sha256, createHash('sha256').update('hello').digest('hex'));
});

test('ok: /bytes/N sends N pattern bytes with Content-Length', async (t) => {
  const upstream = await start(t, 'ok');
  const response = await client(t, upstream).request({ method: 'GET', path: '/bytes/300000' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-length'], '300000');
  const body = Buffer.from(await response.body.arrayBuffer());
  assert.ok(body.equals(patternBody(300_000)));
});

test('ok: /chunked/N sends N pattern bytes in several chunks', async (t) => {
  const upstream = await start(t, 'ok');
  const answer = await exchange(upstream, 'GET /chunked/10000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const { head, body } = splitHead(answer.bytes);
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/i);
  assert.doesNotMatch(head, /content-length/i);
  // Decode the chunked body by hand: several chunks, then the last-chunk.
  const text = body.toString('latin1');
  let offset = 0;
  const pieces: string[] = [];
  for (;;) {
    const lineEnd = text.indexOf('\r\n', offset);
    const size = Number.parseInt(text.slice(offset, lineEnd), 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    pieces.push(text.slice(offset, offset + size));
    offset += size + 2;
  }
  assert.ok(pieces.length > 1, `expected several chunks, got ${pieces.length}`);
  assert.equal(pieces.join(''), patternBody(10_000).toString('latin1'));
});

test('ok: /status/NNN answers with that status', async (t) => {
  const upstream = await start(t, 'ok');
  const http = client(t, upstream);
  for (const status of [201, 404, 502, 503]) {
    const response = await http.request({ method: 'GET', path: `/status/${status}` });
    assert.equal(response.statusCode, status);
    await response.body.text();
  }
  const noContent = await http.request({ method: 'GET', path: '/status/204' });
  assert.equal(noContent.statusCode, 204);
  assert.equal(await noContent.body.text(), '');
});

test('ok: /upload reads a streamed body whole and returns its length and sha256', async (t) => {
  const upstream = await start(t, 'ok');
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  async function* pieces(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < payload.length; offset += 65_536) yield payload.subarray(offset, offset + 65_536);
  }
  const response = await client(t, upstream).request({
    method: 'POST',
    path: '/upload',
    body: Readable.from(pieces()),
  });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(await response.body.json(), {
    bytes: payload.length,
    sha256: createHash('sha256').update(payload).digest('hex'),
  });
});

test('ok: /slow/MS answers no earlier than MS', async (t) => {
  const upstream = await start(t, 'ok');
  const startedAt = Date.now();
  const response = await client(t, upstream).request({ method: 'GET', path: '/slow/300' });
  assert.equal(response.statusCode, 200);
  assert.equal(await response.body.text(), 'slow 300');
  assert.ok(Date.now() - startedAt >= 290);
});

test('ok: keepAliveTimeoutS is announced and the server closes the idle connection', async (t) => {
  const upstream = await start(t, 'ok', { keepAliveTimeoutS: 1 });
  const startedAt = Date.now();
  // The exchange collects until the server ends the idle connection.
  const answer = await exchange(upstream, GET_HEALTH, 5000);
  assert.equal(answer.ending, 'end', 'the server closed the idle keep-alive connection');
  const { head } = splitHead(answer.bytes);
  assert.match(head, /\r\nKeep-Alive: timeout=1\r\n/i);
  assert.match(head, /\r\nConnection: keep-alive\r\n/i);
  assert.ok(Date.now() - startedAt >= 900, 'not before the keep-alive timeout');
});

test('ok: /ws completes the RFC 6455 handshake and echoes bytes', async (t) => {
  const upstream = await start(t, 'ok', { name: 'ws' });
  const socket = connectTo(upstream);
  t.after(() => socket.destroy());
  const received: Buffer[] = [];
  let total = 0;
  const gotEcho = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      total += chunk.length;
      const all = Buffer.concat(received);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd !== -1 && all.subarray(headEnd + 4).includes('ping-pong')) resolve();
    });
  });
  // The sample key and accept value of RFC 6455 §1.3.
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  socket.write('ping-pong');
  await gotEcho;
  const { head, body } = splitHead(Buffer.concat(received));
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  assert.match(head, /\r\nX-Server: ws\r\n/);
  assert.equal(body.toString(), 'ping-pong');
  assert.ok(total > 0);
  assert.equal(upstream.requests, 1);
});

test('refuse: connect fails with ECONNREFUSED', async (t) => {
  const upstream = await start(t, 'refuse');
  assert.equal(await connectOutcome({ host: upstream.host, port: upstream.port }, 5000), 'ECONNREFUSED');
});

test('hang: accepts and reads, but no byte comes back', async (t) => {
  const upstream = await start(t, 'hang');
  const answer = await exchange(upstream, GET_HEALTH, 1000);
  assert.equal(answer.ending, 'timeout');
  assert.equal(answer.bytes.length, 0);
  assert.equal(upstream.connections, 1);
  assert.equal(upstream.requests, 1, 'the request head was read');
});

test('reset: the connection is reset after the request head', async (t) => {
  const upstream = await start(t, 'reset');
  const answer = await exchange(upstream, GET_HEALTH);
  assert.equal(answer.ending, 'error');
  assert.equal(answer.code, 'ECONNRESET');
  assert.equal(answer.bytes.length, 0);
  assert.equal(upstream.requests, 1);
});

test('close: a clean end without a single byte', async (t) => {
  const upstream = await start(t, 'close');
  // A body after the head: the server must still close with FIN, not RST.
  const answer = await exchange(
    upstream,
    `POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'b'.repeat(5000)}`,
  );
  assert.equal(answer.ending, 'end');
  assert.equal(answer.bytes.length, 0);
  assert.equal(upstream.requests, 1);
});

test('garbage: the answer is not HTTP (SSH banner, or binary)', async (t) => {
  const ssh = await start(t, 'garbage');
  const banner = await exchange(ssh, GET_HEALTH);
  assert.equal(banner.ending, 'end');
  assert.equal(banner.bytes.toString(), SSH_BANNER);
  assert.ok(!banner.bytes.toString().startsWith('HTTP/'));

  const binary = await start(t, 'garbage', { garbage: 'binary' });
  const noise = await exchange(binary, GET_HEALTH);
  assert.equal(noise.ending, 'end');
  assert.equal(noise.bytes.length, 256);
  assert.equal(noise.bytes[0], 0xff);

  // A real HTTP client refuses it.
  await assert.rejects(client(t, ssh).request({ method: 'GET', path: '/' }), (error: Error) => {
    assert.equal(error.name, 'HTTPParserError');
    return true;
  });
});

test('huge_head: the response head is at least headBytes', async (t) => {
  for (const headBytes of [undefined, 16 * 1024, 200 * 1024]) {
    const upstream = await start(t, 'huge_head', headBytes === undefined ? {} : { headBytes });
    const answer = await exchange(upstream, GET_HEALTH);
    const { head, body } = splitHead(answer.bytes);
    const expected = headBytes ?? 64 * 1024;
    assert.ok(head.length >= expected, `head ${head.length} >= ${expected}`);
    assert.ok(head.length < expected + 1100, `head ${head.length} is not far above ${expected}`);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n(X-Filler-\d+: x+\r\n)+Content-Length: 2\r\n/);
    assert.equal(body.toString(), 'ok');
  }
});

test('cut_length: Content-Length 100000, then 1000 bytes and a close', async (t) => {
  const upstream = await start(t, 'cut_length');
  const answer = await exchange(upstream, GET_HEALTH);
  assert.equal(answer.ending, 'end');
  const { head, body } = splitHead(answer.bytes);
  assert.match(head, /\r\nContent-Length: 100000\r\n/);
  assert.equal(body.length, CUT_LENGTH_SENT);
  assert.ok(body.equals(patternBody(CUT_LENGTH_SENT)));

  await assert.rejects(async () => {
    const response = await client(t, upstream).request({ method: 'GET', path: '/' });
    await response.body.arrayBuffer();
  });
});

test('cut_chunked: a few chunks, then a close without the last-chunk', async (t) => {
  const upstream = await start(t, 'cut_chunked');
  const answer = await exchange(upstream, GET_HEALTH);
  assert.equal(answer.ending, 'end');
  const { head, body } = splitHead(answer.bytes);
  assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/);
  const size = CUT_CHUNKED_CHUNK_BYTES.toString(16);
  assert.equal(body.length, CUT_CHUNKED_CHUNKS * (size.length + 2 + CUT_CHUNKED_CHUNK_BYTES + 2));
  assert.ok(!body.toString('latin1').includes('\r\n0\r\n'), 'no last-chunk');

  await assert.rejects(async () => {
    const response = await client(t, upstream).request({ method: 'GET', path: '/' });
    await response.body.arrayBuffer();
  });
});

test('slow_drip: the head at once, then one body byte per dripMs', async (t) => {
  const upstream = await start(t, 'slow_drip', { dripMs: 50, dripBytes: 6 });
  const arrivals: number[] = [];
  const socket = connectTo(upstream);
  t.after(() => socket.destroy());
  let headSeen = false;
  let buffered = Buffer.alloc(0);
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  socket.on('data', (chunk: Buffer) => {
    if (!headSeen) {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      headSeen = true;
      assert.match(buffered.subarray(0, end).toString(), /Content-Length: 6$/m);
      for (let index = end + 4; index < buffered.length; index++) arrivals.push(Date.now());
      return;
    }
    for (let index = 0; index < chunk.length; index++) arrivals.push(Date.now());
  });
  const startedAt = Date.now();
  socket.write(GET_HEALTH);
  await ended;
  assert.equal(arrivals.length, 6);
  // Six bytes 50 ms apart cannot all arrive within 250 ms of the request.
  assert.ok((arrivals[5] ?? 0) - startedAt >= 250);
  assert.ok(new Set(arrivals).size >= 3, 'bytes arrived at different times');
});

test('tls: verified with TEST_CA_PATH, answering like ok', async (t) => {
  const upstream = await start(t, 'tls', { name: 'secure' });
  assert.ok(upstream.url.startsWith('https://127.0.0.1:'));
  const response = await client(t, upstream, { connect: { ca: CA } }).request({ method: 'GET', path: '/health' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['x-server'], 'secure');
  assert.equal(await response.body.text(), 'ok');
  assert.equal(
    await tlsConnectOutcome({ host: '127.0.0.1', port: upstream.port, ca: CA, servername: 'localhost' }),
    'connected',
  );
  // Without the test CA the same certificate is not trusted.
  assert.equal(await tlsConnectOutcome({ host: '127.0.0.1', port: upstream.port }), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
});

test('tls_self_signed: fails verification with DEPTH_ZERO_SELF_SIGNED_CERT', async (t) => {
  const upstream = await start(t, 'tls_self_signed');
  assert.equal(
    await tlsConnectOutcome({ host: '127.0.0.1', port: upstream.port, ca: CA }),
    'DEPTH_ZERO_SELF_SIGNED_CERT',
  );
});

test('tls_expired: fails verification with CERT_HAS_EXPIRED', async (t) => {
  const upstream = await start(t, 'tls_expired');
  assert.equal(await tlsConnectOutcome({ host: '127.0.0.1', port: upstream.port, ca: CA }), 'CERT_HAS_EXPIRED');
});

test('tls_wrong_host: a trusted certificate for another name', async (t) => {
  const upstream = await start(t, 'tls_wrong_host');
  assert.equal(
    await tlsConnectOutcome({ host: '127.0.0.1', port: upstream.port, ca: CA, servername: 'localhost' }),
    'ERR_TLS_CERT_ALTNAME_INVALID',
  );
});

test('full_backlog: a connect neither completes nor fails', async (t) => {
  const upstream = await start(t, 'full_backlog');
  assert.equal(await connectOutcome({ host: upstream.host, port: upstream.port }, 1000), 'pending');
  assert.equal(upstream.connections, 0);
  await upstream.close();
  // The listener process is gone with close(): the port now refuses.
  assert.equal(await connectOutcome({ host: upstream.host, port: upstream.port }, 5000), 'ECONNREFUSED');
});

test('full_backlog: the listener dies with the process that started it', async (t) => {
  const library = fileURLToPath(new URL('../../src/drill/upstreams.js', import.meta.url));
  const script = `import { startUpstream } from ${JSON.stringify(library)};
const upstream = await startUpstream('full_backlog');
process.stdout.write(upstream.port + '\\n');`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => parent.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    parent.once('exit', (code) => reject(new Error(`parent exited early with ${code}`)));
  });
  assert.equal(await connectOutcome({ host: '127.0.0.1', port }, 1000), 'pending');
  const exited = new Promise((resolve) => parent.once('exit', resolve));
  parent.kill('SIGKILL');
  await exited;
  // Stdin EOF ends the listener; poll briefly for the port to refuse.
  let outcome = '';
  for (let attempt = 0; attempt < 50 && outcome !== 'ECONNREFUSED'; attempt++) {
    outcome = await connectOutcome({ host: '127.0.0.1', port }, 200);
    if (outcome !== 'ECONNREFUSED') await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(outcome, 'ECONNREFUSED');
});

test("plain_to_tls_400: plain HTTP gets Go's 400; TLS gets the ok app", async (t) => {
  const upstream = await start(t, 'plain_to_tls_400');
  const plain = await exchange(upstream, GET_HEALTH);
  assert.equal(plain.ending, 'end');
  assert.equal(plain.bytes.toString(), GO_PLAIN_HTTP_ON_TLS_ANSWER);
  assert.equal(
    plain.bytes.toString(),
    'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n',
  );

  const response = await client(t, upstream, { connect: { ca: CA } }).request({ method: 'GET', path: '/health' });
  assert.equal(response.statusCode, 200);
  assert.equal(await response.body.text(), 'ok');
  assert.equal(upstream.connections, 2);
  assert.equal(upstream.requests, 2);
});

test('unix socket: ok answers over a unix socket path', async (t) => {
  const path = join(temporaryDirectory(t), 'ok.sock');
  const upstream = await start(t, 'ok', { unixPath: path, name: 'unix' });
  assert.equal(upstream.url, `unix:${path}`);
  assert.equal(upstream.socketPath, path);
  assert.equal(upstream.port, 0);
  const response = await client(t, upstream).request({ method: 'GET', path: '/echo' });
  assert.equal(response.statusCode, 200);
  assert.equal(((await response.body.json()) as { server: string }).server, 'unix');
  await upstream.close();
  assert.equal(existsSync(path), false, 'the socket file is removed on close');
  // A stale socket file left at the path is replaced.
  const again = await start(t, 'hang', { unixPath: path });
  assert.equal((await exchange(again, GET_HEALTH, 300)).ending, 'timeout');
});

test('unix socket: refuse, reset, garbage and full_backlog', async (t) => {
  const dir = temporaryDirectory(t);
  const refuse = await start(t, 'refuse', { unixPath: join(dir, 'refuse.sock') });
  assert.equal(await connectOutcome({ path: join(dir, 'refuse.sock') }, 2000), 'ECONNREFUSED');
  await refuse.close();
  assert.equal(existsSync(join(dir, 'refuse.sock')), false);

  const reset = await start(t, 'reset', { unixPath: join(dir, 'reset.sock') });
  const resetAnswer = await exchange(reset, GET_HEALTH);
  assert.equal(resetAnswer.bytes.length, 0);
  assert.equal(resetAnswer.ending, 'end', 'a unix socket has no RST: the peer reads EOF');

  const garbage = await start(t, 'garbage', { unixPath: join(dir, 'garbage.sock') });
  assert.equal((await exchange(garbage, GET_HEALTH)).bytes.toString(), SSH_BANNER);

  // A unix listener with a full queue fails a non-blocking connect at once.
  const full = await start(t, 'full_backlog', { unixPath: join(dir, 'full.sock') });
  assert.equal(await connectOutcome({ path: join(dir, 'full.sock') }, 2000), 'EAGAIN');
  await full.close();
  assert.equal(existsSync(join(dir, 'full.sock')), false);
});

test('fixtures: paths resolve from the compiled module to the committed certificates', () => {
  assert.equal(TEST_CA_PATH, TEST_TLS_FIXTURES.ca);
  for (const path of Object.values(TEST_TLS_FIXTURES)) assert.ok(existsSync(path), path);
  const ca = new X509Certificate(CA);
  const server = new X509Certificate(readFileSync(TEST_TLS_FIXTURES.server));
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'server.pem is signed by the test CA');
  assert.ok(server.checkHost('localhost') !== undefined && server.checkIP('127.0.0.1') !== undefined);
  assert.ok(new Date(server.validTo).getFullYear() >= 2100);
  const expired = new X509Certificate(readFileSync(TEST_TLS_FIXTURES.expired));
  assert.ok(expired.checkIssued(ca) && new Date(expired.validTo).getTime() < Date.now());
  const selfSigned = new X509Certificate(readFileSync(TEST_TLS_FIXTURES.selfSigned));
  assert.equal(selfSigned.issuer, selfSigned.subject);
  assert.ok(selfSigned.verify(selfSigned.publicKey) && !selfSigned.verify(ca.publicKey));
});

/** Handle kinds an upstream can leave behind; the test runner's own (pipes to its parent) are stable. */
const WATCHED_RESOURCES = new Set([
  'TCPServerWrap',
  'TCPSocketWrap',
  'PipeServerWrap',
  'PipeWrap',
  'ProcessWrap',
  'TLSWrap',
  'Timeout',
]);

/**
 * Counts after letting the loop turn: a closed handle leaves libuv's list one iteration after its
 * 'close' (net.Server emits 'close' before its listening handle is released).
 */
async function settledResourceCounts(): Promise<Record<string, number>> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  return resourceCounts();
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (WATCHED_RESOURCES.has(name)) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const MID_EXCHANGE_REQUEST = 'GET /slow/10000 HTTP/1.1\r\nHost: x\r\n\r\n';

test('close(): leaves no open handle behind, even with a client mid-exchange, and is idempotent', async (t) => {
  const dir = temporaryDirectory(t);
  const cases: Array<[UpstreamBehaviour, UpstreamOptions]> = [
    ['ok', {}],
    ['ok', { unixPath: join(dir, 'ok.sock') }],
    ['refuse', {}],
    ['hang', {}],
    ['reset', {}],
    ['close', {}],
    ['slow_drip', { dripMs: 20, dripBytes: 1000 }],
    ['tls', {}],
    ['plain_to_tls_400', {}],
    ['full_backlog', {}],
  ];
  for (const [behaviour, options] of cases) {
    const before = await settledResourceCounts();
    const upstream = await startUpstream(behaviour, options);
    const tlsSide = behaviour === 'tls' || behaviour === 'plain_to_tls_400';
    const socket = tlsSide ? tls.connect({ host: upstream.host, port: upstream.port, ca: CA }) : connectTo(upstream);
    socket.on('error', () => {});
    socket.on('end', () => socket.destroy());
    // Read whatever arrives: a paused socket never sees the end of the stream.
    socket.resume();
    const clientClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (behaviour === 'refuse' || behaviour === 'full_backlog') {
      socket.destroy();
    } else {
      await new Promise<void>((resolve) => socket.once(tlsSide ? 'secureConnect' : 'connect', () => resolve()));
      socket.write(MID_EXCHANGE_REQUEST);
      // Until the upstream has the request in hand (reset and close then act on it at once).
      for (let waited = 0; upstream.requests === 0 && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(upstream.requests, 1, `${behaviour}: request seen`);
    }
    await Promise.all([upstream.close(), upstream.close()]);
    await upstream.close();
    await clientClosed;
    assert.deepEqual(
      await settledResourceCounts(),
      before,
      `${behaviour} ${JSON.stringify(options)} left a handle open`,
    );
  }
});
