import * as assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  type ClassifyContext,
  classify,
  failureOf,
  isPlainHttpToTlsAnswer,
  isTlsRecordStart,
  ROOT_CAUSES,
  UPSTREAM_ERROR_CODES,
  UpstreamError,
  type UpstreamErrorCode,
} from '../../src/diagnose/index.js';
import { freePort } from '../support/nginx.js';

function ctxOf(overrides: Partial<ClassifyContext> = {}): ClassifyContext {
  return { phase: 'connect', upstream: 'api', server: '127.0.0.1:5001', attempt: 1, reused: false, ...overrides };
}

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** The first error a socket emits; fails the test if it connects or closes cleanly instead. */
function errorOf(socket: Socket | TLSSocket): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    socket.once('close', () => reject(new Error('socket closed without an error')));
  });
}

let certDir = '';
let key: Buffer;
let cert: Buffer;

before(() => {
  certDir = mkdtempSync(join(tmpdir(), 'gatewise-classify-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
    ],
    { cwd: certDir, stdio: 'ignore' },
  );
  key = readFileSync(join(certDir, 'key.pem'));
  cert = readFileSync(join(certDir, 'cert.pem'));
});

after(() => rmSync(certDir, { recursive: true, force: true }));

test('connect to a closed port: ECONNREFUSED is connection_refused / backend_down', async () => {
  const port = await freePort();
  const err = await errorOf(netConnect(port, '127.0.0.1'));
  assert.equal(err.code, 'ECONNREFUSED');
  const failure = classify(err, ctxOf({ server: `127.0.0.1:${port}`, connectMs: 1 }));
  assert.equal(failure.type, 'connection_refused');
  assert.equal(failure.status, 502);
  assert.equal(failure.cause, 'backend_down');
  assert.equal(failure.hint, ROOT_CAUSES.backend_down.hint);
  assert.equal(failure.code, 'ECONNREFUSED');
  assert.equal(
    failure.detail,
    `connect() to 127.0.0.1:${port} failed (ECONNREFUSED: connection refused) while connecting to upstream`,
  );
  assert.equal(failure.connectMs, 1);
  assert.equal(failure.headMs, -1);
  assert.deepEqual(
    [failure.upstream, failure.server, failure.attempt, failure.reused],
    ['api', `127.0.0.1:${port}`, 1, false],
  );
});

test('a missing unix socket path: ENOENT is destination_not_found 502 / wrong_upstream_address', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'app.sock');
  const err = await errorOf(netConnect(path));
  assert.equal(err.code, 'ENOENT');
  const failure = classify(err, ctxOf({ server: `unix:${path}`, unixPath: true }));
  assert.equal(failure.type, 'destination_not_found');
  assert.equal(failure.status, 502);
  assert.equal(failure.cause, 'wrong_upstream_address');
  assert.match(failure.detail, /^connect\(\) to unix:.*app\.sock failed \(ENOENT: no such file or directory\)/);
});

test('a unix socket the gateway user may not open: EACCES is permission_or_selinux', { timeout: 20_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-perm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'app.sock');
  const server = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  let err: NodeJS.ErrnoException;
  const script = `const s=require('node:net').connect(${JSON.stringify(path)});s.on('error',e=>{process.stdout.write(JSON.stringify({code:e.code,syscall:e.syscall,message:e.message,address:e.address}))});s.on('connect',()=>{process.stdout.write('{}');s.destroy()})`;
  if (process.getuid?.() === 0) {
    // root passes every permission check, so an unprivileged child makes the real connect().
    chmodSync(dir, 0o700);
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { uid: 65534, gid: 65534, timeout: 10_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
    err = Object.assign(new Error(''), JSON.parse(output) as object) as NodeJS.ErrnoException;
  } else {
    chmodSync(dir, 0o000);
    t.after(() => chmodSync(dir, 0o700));
    err = await errorOf(netConnect(path));
  }
  assert.equal(err.code, 'EACCES');
  const failure = classify(err, ctxOf({ server: `unix:${path}`, unixPath: true }));
  assert.equal(failure.type, 'connection_refused');
  assert.equal(failure.cause, 'permission_or_selinux');
  assert.match(failure.detail, /\(EACCES: permission denied\) while connecting to upstream$/);
});

test('out of file descriptors: EMFILE is proxy_internal_error / overload_or_exhaustion', {
  timeout: 20_000,
}, async (t) => {
  const port = await listen(
    t,
    createNetServer((socket) => socket.destroy()),
  );
  const script = `const fs=require('node:fs');try{for(let i=0;i<4096;i++)fs.openSync('/dev/null','r')}catch{}const s=require('node:net').connect(${port},'127.0.0.1');s.on('error',e=>{process.stdout.write(JSON.stringify({code:e.code,syscall:e.syscall,message:e.message}));process.exit(0)});s.on('connect',()=>{process.stdout.write('{}');process.exit(0)})`;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      'sh',
      ['-c', 'ulimit -n 32 && exec "$0" -e "$1"', process.execPath, script],
      { timeout: 10_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
  const err = Object.assign(new Error(''), JSON.parse(output) as object) as NodeJS.ErrnoException;
  assert.equal(err.code, 'EMFILE');
  const failure = classify(err, ctxOf({ server: `127.0.0.1:${port}` }));
  assert.equal(failure.type, 'proxy_internal_error');
  assert.equal(failure.status, 500);
  assert.equal(failure.cause, 'overload_or_exhaustion');
});

test('binding to a local address not on this host: EADDRNOTAVAIL on bind is a configuration error', async (t) => {
  const port = await listen(
    t,
    createNetServer((socket) => socket.destroy()),
  );
  const err = await errorOf(netConnect({ port, host: '127.0.0.1', localAddress: '192.0.2.1' }));
  assert.equal(err.code, 'EADDRNOTAVAIL');
  assert.equal(err.syscall, 'bind');
  const failure = classify(err, ctxOf());
  assert.equal(failure.type, 'proxy_configuration_error');
  // The same code from connect() is ephemeral port exhaustion.
  const exhausted = classify(
    Object.assign(new Error('connect EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL', syscall: 'connect' }),
    ctxOf(),
  );
  assert.equal(exhausted.type, 'proxy_internal_error');
  assert.equal(exhausted.cause, 'overload_or_exhaustion');
});

test('a .invalid host name: the resolver error is dns_error (or dns_timeout when the resolver is unreachable)', async () => {
  const err = (await lookup('gatewise-test.invalid').then(
    () => assert.fail('a .invalid name resolved'),
    (error: unknown) => error,
  )) as NodeJS.ErrnoException;
  const failure = classify(err, ctxOf({ phase: 'dns', server: 'gatewise-test.invalid:80' }));
  assert.equal(failure.cause, 'dns');
  if (err.code === 'EAI_AGAIN') {
    assert.equal(failure.type, 'dns_timeout');
    assert.equal(failure.status, 504);
  } else {
    assert.equal(err.code, 'ENOTFOUND');
    assert.equal(failure.type, 'dns_error');
    assert.equal(failure.status, 502);
  }
  assert.match(failure.detail, /"gatewise-test\.invalid"/);
  assert.match(failure.detail, /while resolving upstream$/);
});

test('a TLS client against a plain node:http server: wrong version number is tls_protocol_error / tls_mismatch', async (t) => {
  const port = await listen(
    t,
    createHttpServer((_req, res) => res.end('plain')),
  );
  const err = await errorOf(tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }));
  assert.equal(err.code, 'ERR_SSL_WRONG_VERSION_NUMBER');
  const failure = classify(err, ctxOf({ phase: 'tls', server: `127.0.0.1:${port}` }));
  assert.equal(failure.type, 'tls_protocol_error');
  assert.equal(failure.cause, 'tls_mismatch');
  assert.match(failure.detail, /^SSL_do_handshake\(\) failed \(ERR_SSL_WRONG_VERSION_NUMBER: wrong version number/);
  assert.match(failure.detail, /while SSL handshaking to upstream$/);
});

test('the same OpenSSL reason behind a generic EPROTO code is recognised', () => {
  const err = Object.assign(
    new Error('write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:354:'),
    { code: 'EPROTO', syscall: 'write' },
  );
  const failure = classify(err, ctxOf({ phase: 'tls' }));
  assert.equal(failure.type, 'tls_protocol_error');
  assert.equal(failure.cause, 'tls_mismatch');
  assert.equal(failure.code, 'ERR_SSL_WRONG_VERSION_NUMBER');
  const bare = classify(Object.assign(new Error('write EPROTO'), { code: 'EPROTO' }), ctxOf({ phase: 'tls' }));
  assert.equal(bare.type, 'tls_protocol_error');
  assert.equal(bare.cause, 'tls_mismatch');
});

test('a self-signed upstream certificate: tls_certificate_error / tls_config', async (t) => {
  const port = await listen(
    t,
    createTlsServer({ key, cert }, (socket) => socket.end()),
  );
  const err = await errorOf(tlsConnect({ port, host: '127.0.0.1', servername: 'localhost' }));
  assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  const failure = classify(err, ctxOf({ phase: 'tls' }));
  assert.equal(failure.type, 'tls_certificate_error');
  assert.equal(failure.cause, 'tls_config');
  assert.match(
    failure.detail,
    /^upstream SSL certificate verify error: \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\)/,
  );
});

test('a trusted certificate for another name: ERR_TLS_CERT_ALTNAME_INVALID is tls_certificate_error', async (t) => {
  const port = await listen(
    t,
    createTlsServer({ key, cert }, (socket) => socket.end()),
  );
  const err = await errorOf(tlsConnect({ port, host: '127.0.0.1', ca: cert, servername: 'api.example' }));
  assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const failure = classify(err, ctxOf({ phase: 'tls' }));
  assert.equal(failure.type, 'tls_certificate_error');
  assert.equal(failure.cause, 'tls_config');
  assert.match(failure.detail, /does not match the server name/);
});

test('TLS alerts from the upstream (client certificate required, protocol version): tls_alert_received', async (t) => {
  const needsClientCert = await listen(
    t,
    createTlsServer({ key, cert, requestCert: true, rejectUnauthorized: true }, (socket) => socket.end()),
  );
  const certErr = await errorOf(tlsConnect({ port: needsClientCert, host: '127.0.0.1', rejectUnauthorized: false }));
  assert.match(certErr.code ?? '', /^ERR_SSL_TLSV13_ALERT_/);
  const onlyTls13 = await listen(
    t,
    createTlsServer({ key, cert, minVersion: 'TLSv1.3' }, (socket) => socket.end()),
  );
  const versionErr = await errorOf(
    tlsConnect({ port: onlyTls13, host: '127.0.0.1', rejectUnauthorized: false, maxVersion: 'TLSv1.2' }),
  );
  assert.equal(versionErr.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  for (const err of [certErr, versionErr]) {
    const failure = classify(err, ctxOf({ phase: 'tls' }));
    assert.equal(failure.type, 'tls_alert_received', err.code);
    assert.equal(failure.cause, 'tls_config');
    assert.equal(failure.code, err.code);
    assert.match(failure.detail, /^upstream sent TLS alert "tlsv1?3? alert [a-z ]+"/);
  }
});

test('an upstream that closes during the TLS handshake: tls_protocol_error / tls_mismatch', async (t) => {
  const port = await listen(
    t,
    createNetServer((socket) => socket.once('data', () => socket.end())),
  );
  const err = await errorOf(tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }));
  assert.equal(err.code, 'ECONNRESET');
  const failure = classify(err, ctxOf({ phase: 'tls' }));
  assert.equal(failure.type, 'tls_protocol_error');
  assert.equal(failure.cause, 'tls_mismatch');
});

test('an upstream that resets: ECONNRESET by phase and connection reuse', async (t) => {
  const port = await listen(
    t,
    createNetServer((socket) => socket.once('data', () => socket.resetAndDestroy())),
  );
  const socket = netConnect(port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nHost: upstream\r\n\r\n');
  const err = await errorOf(socket);
  assert.equal(err.code, 'ECONNRESET');
  const fresh = classify(err, ctxOf({ phase: 'read_head' }));
  assert.deepEqual([fresh.type, fresh.cause, fresh.status], ['connection_terminated', 'crash_or_oom', 502]);
  assert.equal(
    fresh.detail,
    'recv() failed (ECONNRESET: connection reset by peer) while reading response header from upstream',
  );
  const reused = classify(err, ctxOf({ phase: 'read_head', reused: true }));
  assert.deepEqual([reused.type, reused.cause, reused.reused], ['connection_terminated', 'keepalive_mismatch', true]);
  const midBody = classify(err, ctxOf({ phase: 'read_body', headMs: 3 }));
  assert.deepEqual([midBody.type, midBody.cause, midBody.headMs], ['http_response_incomplete', 'crash_or_oom', 3]);
});

test('TLS bytes on a plain-HTTP upstream: a real ClientHello is recognised and classified as tls_mismatch', async (t) => {
  let received: (bytes: Buffer) => void = () => {};
  const firstChunk = new Promise<Buffer>((resolve) => {
    received = resolve;
  });
  const port = await listen(
    t,
    createNetServer((socket) =>
      socket.once('data', (chunk: Buffer) => {
        received(chunk);
        socket.destroy();
      }),
    ),
  );
  const client = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  client.on('error', () => {});
  t.after(() => client.destroy());
  const bytes = await firstChunk;
  assert.equal(bytes[0], 0x16);
  assert.ok(isTlsRecordStart(bytes));
  assert.ok(!isTlsRecordStart(Buffer.from('HTTP/1.1 200 OK\r\n')));
  assert.ok(!isTlsRecordStart(Buffer.alloc(0)));
  assert.ok(isTlsRecordStart(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])), 'a TLS alert record');

  const bad = classify(new UpstreamError('GW_BAD_RESPONSE'), ctxOf({ phase: 'read_head', firstBytes: bytes }));
  assert.deepEqual([bad.type, bad.cause], ['http_protocol_error', 'tls_mismatch']);
  const closed = classify(new UpstreamError('GW_UPSTREAM_CLOSED'), ctxOf({ phase: 'read_head', firstBytes: bytes }));
  assert.deepEqual([closed.type, closed.cause], ['connection_terminated', 'tls_mismatch']);
  const plainGarbage = classify(
    new UpstreamError('GW_BAD_RESPONSE', undefined, { cause: new Error('invalid status line') }),
    ctxOf({ phase: 'read_head', firstBytes: Buffer.from('HTTX/9 what') }),
  );
  assert.deepEqual([plainGarbage.type, plainGarbage.cause], ['http_protocol_error', 'protocol_error']);
});

test('plain HTTP to a TLS server: a clean close with no bytes, then a TLS probe, is tls_mismatch', async (t) => {
  const port = await listen(
    t,
    createTlsServer({ key, cert }, (socket) => socket.end()),
  );
  const plain = netConnect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  plain.on('data', (chunk: Buffer) => chunks.push(chunk));
  plain.write('GET / HTTP/1.1\r\nHost: upstream\r\n\r\n');
  await new Promise((resolve) => plain.once('close', resolve));
  assert.equal(Buffer.concat(chunks).length, 0, 'a node TLS server answers plain HTTP with a silent close');
  // The probe the forwarder runs once in this situation.
  const serverSpeaksTls = await new Promise<boolean>((resolve) => {
    const probe = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  assert.equal(serverSpeaksTls, true);
  const failure = classify(new UpstreamError('GW_UPSTREAM_CLOSED'), ctxOf({ phase: 'read_head', serverSpeaksTls }));
  assert.deepEqual([failure.type, failure.cause, failure.status], ['connection_terminated', 'tls_mismatch', 502]);
  assert.match(failure.detail, /upstream prematurely closed connection/);
});

test("nginx's answer to plain HTTP on its TLS port is recognised", { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  writeFileSync(join(dir, 'cert.pem'), cert);
  writeFileSync(join(dir, 'key.pem'), key);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name}_temp_path ${join(dir, name)};`)
    .join('\n  ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')};
events { worker_connections 16; }
http {
  access_log off;
  ${temp}
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', dir, '-e', join(dir, 'logs', 'error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: 'ignore',
  });
  t.after(() => {
    nginx.kill('SIGTERM');
  });
  const exited = new Promise<never>((_resolve, reject) =>
    nginx.once('exit', (code) => reject(new Error(`nginx exited (${code})`))),
  );
  exited.catch(() => {});
  const response = await Promise.race([exited, plainRequestWithRetry(port)]);
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  assert.equal(status, 400);
  assert.ok(isPlainHttpToTlsAnswer(status, body.slice(0, 512)), `not recognised: ${body}`);
});

/** Sends one plain HTTP request, retrying while the server is still starting; resolves with the raw response. */
async function plainRequestWithRetry(port: number): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await new Promise<string | undefined>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => resolve(undefined));
      socket.on('close', () => resolve(chunks.length > 0 ? Buffer.concat(chunks).toString('latin1') : undefined));
    });
    if (response !== undefined) return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('nginx did not answer');
}

test('isPlainHttpToTlsAnswer knows Go and Apache too, and nothing else', () => {
  assert.ok(isPlainHttpToTlsAnswer(400, 'Client sent an HTTP request to an HTTPS server.\n'));
  assert.ok(
    isPlainHttpToTlsAnswer(
      400,
      "<p>Your browser sent a request that this server could not understand.<br />\nReason: You're speaking plain HTTP to an SSL-enabled server port.<br />",
    ),
  );
  assert.ok(!isPlainHttpToTlsAnswer(400, '{"error":"missing field name"}'));
  assert.ok(!isPlainHttpToTlsAnswer(200, 'Client sent an HTTP request to an HTTPS server.'));
  assert.ok(!isPlainHttpToTlsAnswer(400, `${'x'.repeat(600)}The plain HTTP request was sent to HTTPS port`));
});

/** Every engine code, with each of its context refinements: [code, context, type, cause, status]. */
const ENGINE_CASES: ReadonlyArray<[UpstreamErrorCode, Partial<ClassifyContext>, string, string, number]> = [
  ['GW_CONNECT_TIMEOUT', { phase: 'connect' }, 'connection_timeout', 'firewall_or_network', 504],
  ['GW_CONNECT_TIMEOUT', { phase: 'connect', unixPath: true }, 'connection_timeout', 'overload_or_exhaustion', 504],
  ['GW_SEND_TIMEOUT', { phase: 'send' }, 'connection_write_timeout', 'slow_backend', 504],
  ['GW_READ_TIMEOUT', { phase: 'read_head' }, 'connection_read_timeout', 'slow_backend', 504],
  ['GW_READ_TIMEOUT', { phase: 'read_body' }, 'http_response_incomplete', 'slow_backend', 502],
  ['GW_DNS_TIMEOUT', { phase: 'dns' }, 'dns_timeout', 'dns', 504],
  ['GW_UPSTREAM_CLOSED', { phase: 'read_head' }, 'connection_terminated', 'crash_or_oom', 502],
  ['GW_UPSTREAM_CLOSED', { phase: 'read_head', reused: true }, 'connection_terminated', 'keepalive_mismatch', 502],
  ['GW_UPSTREAM_CLOSED', { phase: 'read_head', serverSpeaksTls: true }, 'connection_terminated', 'tls_mismatch', 502],
  ['GW_UPSTREAM_CLOSED', { phase: 'read_head', serverSpeaksTls: false }, 'connection_terminated', 'crash_or_oom', 502],
  ['GW_UPSTREAM_RESET', { phase: 'read_head' }, 'connection_terminated', 'crash_or_oom', 502],
  ['GW_UPSTREAM_RESET', { phase: 'send', reused: true }, 'connection_terminated', 'keepalive_mismatch', 502],
  ['GW_BAD_RESPONSE', { phase: 'read_head' }, 'http_protocol_error', 'protocol_error', 502],
  [
    'GW_RESPONSE_HEAD_TOO_LARGE',
    { phase: 'read_head' },
    'http_response_header_section_size',
    'buffer_or_limit_config',
    502,
  ],
  ['GW_BODY_INCOMPLETE', { phase: 'read_body' }, 'http_response_incomplete', 'crash_or_oom', 502],
  ['GW_PLAIN_HTTP_TO_TLS', { phase: 'read_head' }, 'tls_protocol_error', 'tls_mismatch', 502],
  ['GW_NO_ROUTE', { phase: 'route' }, 'destination_not_found', 'other', 404],
  ['GW_NO_SERVER', { phase: 'select' }, 'destination_unavailable', 'backend_down', 503],
  ['GW_LOOP', { phase: 'route' }, 'proxy_loop_detected', 'wrong_upstream_address', 508],
  ['GW_LIMIT', { phase: 'queue' }, 'connection_limit_reached', 'overload_or_exhaustion', 503],
  ['GW_BAD_REQUEST', { phase: 'route' }, 'http_request_error', 'protocol_error', 400],
  ['GW_DENIED', { phase: 'route' }, 'http_request_denied', 'other', 403],
  ['GW_MISCONFIGURED', { phase: 'internal' }, 'proxy_configuration_error', 'other', 500],
  ['GW_INTERNAL', { phase: 'internal' }, 'proxy_internal_error', 'other', 500],
];

test('every engine code classifies with its context refinements', () => {
  const covered = new Set(ENGINE_CASES.map(([code]) => code));
  assert.deepEqual([...covered].sort(), Object.keys(UPSTREAM_ERROR_CODES).sort(), 'every engine code has a case');
  for (const [code, ctx, type, cause, status] of ENGINE_CASES) {
    const err = new UpstreamError(code, undefined, { timeoutMs: 2000 });
    assert.equal(err.code, code);
    assert.equal(err.message, UPSTREAM_ERROR_CODES[code]);
    const failure = classify(err, ctxOf(ctx));
    const label = `${code} ${JSON.stringify(ctx)}`;
    assert.deepEqual([failure.type, failure.cause, failure.status, failure.code], [type, cause, status, code], label);
    assert.equal(failure.phase, ctx.phase, label);
    assert.ok(failure.detail.includes(code), `${label}: detail names the code: ${failure.detail}`);
  }
  const timedOut = classify(
    new UpstreamError('GW_READ_TIMEOUT', undefined, { timeoutMs: 30_000 }),
    ctxOf({ phase: 'read_head' }),
  );
  assert.equal(
    timedOut.detail,
    'upstream timed out (GW_READ_TIMEOUT: no response header within 30000 ms) while reading response header from upstream',
  );
  const limited = classify(
    new UpstreamError('GW_LIMIT', undefined, { retryAfterSeconds: 7 }),
    ctxOf({ phase: 'queue' }),
  );
  assert.equal(limited.retryAfterSeconds, 7);
});

test('errno codes by phase: DNS-phase refusals and timeouts, kernel timeouts, unreachable networks', () => {
  const errno = (code: string, syscall = 'connect') =>
    Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
  const cases: ReadonlyArray<[string, Partial<ClassifyContext>, string, string]> = [
    ['ECONNREFUSED', { phase: 'dns' }, 'dns_error', 'dns'],
    ['ETIMEDOUT', { phase: 'connect' }, 'connection_timeout', 'firewall_or_network'],
    ['ETIMEDOUT', { phase: 'dns' }, 'dns_timeout', 'dns'],
    ['ETIMEDOUT', { phase: 'read_head' }, 'connection_terminated', 'firewall_or_network'],
    ['EAI_AGAIN', { phase: 'dns' }, 'dns_timeout', 'dns'],
    ['EAI_FAIL', { phase: 'dns' }, 'dns_error', 'dns'],
    ['ENETUNREACH', {}, 'destination_ip_unroutable', 'firewall_or_network'],
    ['EHOSTUNREACH', {}, 'destination_ip_unroutable', 'firewall_or_network'],
    ['EPERM', {}, 'connection_refused', 'permission_or_selinux'],
    ['EAGAIN', { unixPath: true }, 'connection_refused', 'overload_or_exhaustion'],
    ['EPIPE', { phase: 'send' }, 'connection_terminated', 'crash_or_oom'],
    ['EPIPE', { phase: 'send', reused: true }, 'connection_terminated', 'keepalive_mismatch'],
    ['ENFILE', {}, 'proxy_internal_error', 'overload_or_exhaustion'],
    ['CERT_HAS_EXPIRED', { phase: 'tls' }, 'tls_certificate_error', 'tls_config'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', { phase: 'tls' }, 'tls_certificate_error', 'tls_config'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', { phase: 'tls' }, 'tls_alert_received', 'tls_config'],
    ['ERR_SSL_NO_PROTOCOLS_AVAILABLE', { phase: 'tls' }, 'tls_protocol_error', 'tls_config'],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', { phase: 'tls' }, 'tls_protocol_error', 'tls_mismatch'],
    ['HPE_INVALID_CONSTANT', { phase: 'read_head' }, 'http_protocol_error', 'protocol_error'],
    ['UND_ERR_HEADERS_TIMEOUT', { phase: 'read_head' }, 'connection_read_timeout', 'slow_backend'],
  ];
  for (const [code, ctx, type, cause] of cases) {
    const failure = classify(errno(code), ctxOf(ctx));
    assert.deepEqual([failure.type, failure.cause], [type, cause], `${code} ${JSON.stringify(ctx)}`);
  }
});

test('wrapped errors are classified by their cause chain and AggregateError members', async () => {
  const port = await freePort();
  const refused = await errorOf(netConnect(port, '127.0.0.1'));
  const wrapped = new TypeError('fetch failed', { cause: refused });
  assert.equal(classify(wrapped, ctxOf()).type, 'connection_refused');
  const aggregate = Object.assign(new AggregateError([refused, refused], 'all attempts failed'), {});
  assert.equal(classify(aggregate, ctxOf()).type, 'connection_refused');
  const badResponse = new UpstreamError('GW_BAD_RESPONSE', 'invalid header line', { cause: new Error('bad') });
  assert.match(classify(badResponse, ctxOf({ phase: 'read_head' })).detail, /GW_BAD_RESPONSE: invalid header line/);
});

test('unknown errors become proxy_internal_error / other and classify never throws', () => {
  const hostile = Object.defineProperty({}, 'code', {
    get() {
      throw new Error('hostile getter');
    },
  });
  const cyclic: { cause?: unknown; code: string } = { code: 'E_NOT_A_REAL_CODE' };
  cyclic.cause = cyclic;
  const inputs: unknown[] = [undefined, null, 42, 'boom', {}, new Error('no code'), hostile, cyclic, Symbol('x')];
  for (const input of inputs) {
    const failure = classify(input, ctxOf({ phase: 'read_head' }));
    assert.equal(failure.type, 'proxy_internal_error');
    assert.equal(failure.cause, 'other');
    assert.equal(failure.status, 500);
    assert.ok(failure.detail.length > 0);
    assert.ok(failure.code.length > 0);
  }
  assert.equal(
    classify('boom', ctxOf({ phase: 'read_head' })).detail,
    'recv() failed (UNKNOWN: boom) while reading response header from upstream',
  );
});

test('failureOf builds the failures Gatewise decides itself', () => {
  const noRoute = failureOf('destination_not_found', 'other', 'GW_NO_ROUTE', 'no route for GET example.com/x');
  assert.deepEqual(
    { ...noRoute },
    {
      type: 'destination_not_found',
      status: 404,
      cause: 'other',
      hint: ROOT_CAUSES.other.hint,
      phase: 'route',
      code: 'GW_NO_ROUTE',
      detail: 'no route for GET example.com/x',
      upstream: '',
      server: '',
      attempt: 0,
      reused: false,
      connectMs: -1,
      headMs: -1,
    },
  );
  const missingSocket = failureOf('destination_not_found', 'wrong_upstream_address', 'ENOENT', 'socket missing');
  assert.equal(missingSocket.status, 502);
  const limited = failureOf('connection_limit_reached', 'overload_or_exhaustion', 'GW_LIMIT', 'queue full', {
    upstream: 'api',
    retryAfterSeconds: 2,
  });
  assert.deepEqual(
    [limited.status, limited.phase, limited.upstream, limited.retryAfterSeconds],
    [503, 'queue', 'api', 2],
  );
  const noServer = failureOf('destination_unavailable', 'backend_down', 'GW_NO_SERVER', 'all servers ejected', {
    phase: 'select',
    upstream: 'api',
  });
  assert.deepEqual([noServer.status, noServer.phase, noServer.retryAfterSeconds], [503, 'select', undefined]);
});
