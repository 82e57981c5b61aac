/**
 * Every failure of the taxonomy that the core can meet, proven against a real misbehaving server on
 * loopback: the status, the Proxy-Status type and the root cause a user sees.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  type StartedUpstream,
  startUpstream,
  TEST_CA_PATH,
  type UpstreamBehaviour,
} from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway, type TestGateway } from '../support/gateway.js';
import { get, rawExchange } from '../support/raw-client.js';

const FAST = `    timeouts: { connect: 400ms, send: 2s, read: 400ms }
    retries: { attempts: 1 }`;

interface Case {
  name: string;
  behaviour?: UpstreamBehaviour;
  /** Builds the server URL from the started upstream. */
  url?: (u: StartedUpstream | undefined) => string;
  upstreamTls?: string;
  status: number;
  type: string;
  cause: string;
}

const CASES: Case[] = [
  { name: 'connection refused', behaviour: 'refuse', status: 502, type: 'connection_refused', cause: 'backend_down' },
  {
    name: 'unix socket missing',
    url: () => `unix:/tmp/gatewise-test-missing-${process.pid}.sock`,
    status: 502,
    type: 'destination_not_found',
    cause: 'wrong_upstream_address',
  },
  {
    name: 'connect timeout (accept queue full)',
    behaviour: 'full_backlog',
    status: 504,
    type: 'connection_timeout',
    cause: 'firewall_or_network',
  },
  { name: 'DNS failure', url: () => 'http://no-such-host.invalid:80', status: 502, type: 'dns_error', cause: 'dns' },
  { name: 'read timeout', behaviour: 'hang', status: 504, type: 'connection_read_timeout', cause: 'slow_backend' },
  {
    name: 'reset before the head',
    behaviour: 'reset',
    status: 502,
    type: 'connection_terminated',
    cause: 'crash_or_oom',
  },
  {
    name: 'clean close before the head',
    behaviour: 'close',
    status: 502,
    type: 'connection_terminated',
    cause: 'crash_or_oom',
  },
  {
    name: 'non-HTTP bytes in reply',
    behaviour: 'garbage',
    status: 502,
    type: 'http_protocol_error',
    cause: 'protocol_error',
  },
  {
    name: 'response head over the limit',
    behaviour: 'huge_head',
    status: 502,
    type: 'http_response_header_section_size',
    cause: 'buffer_or_limit_config',
  },
  {
    name: 'plain HTTP gateway to a TLS upstream',
    behaviour: 'tls',
    url: (u) => `http://127.0.0.1:${u!.port}`,
    status: 502,
    type: 'connection_terminated',
    cause: 'tls_mismatch',
  },
  {
    name: 'upstream 400 "HTTP request to an HTTPS server" (Go)',
    behaviour: 'plain_to_tls_400',
    url: (u) => `http://127.0.0.1:${u!.port}`,
    status: 502,
    type: 'tls_protocol_error',
    cause: 'tls_mismatch',
  },
  {
    name: 'TLS gateway to a plain-HTTP upstream',
    behaviour: 'ok',
    url: (u) => `https://127.0.0.1:${u!.port}`,
    status: 502,
    type: 'tls_protocol_error',
    cause: 'tls_mismatch',
  },
  {
    name: 'self-signed certificate',
    behaviour: 'tls_self_signed',
    status: 502,
    type: 'tls_certificate_error',
    cause: 'tls_config',
  },
  {
    name: 'expired certificate',
    behaviour: 'tls_expired',
    upstreamTls: `    tls: { ca: ${TEST_CA_PATH} }`,
    status: 502,
    type: 'tls_certificate_error',
    cause: 'tls_config',
  },
];

for (const c of CASES) {
  test(`classifies: ${c.name}`, async (t) => {
    const upstream = c.behaviour ? await startUpstream(c.behaviour) : undefined;
    t.after(() => upstream?.close());
    const url = c.url ? c.url(upstream) : upstream!.url;
    const gw = await startGateway(simpleConfig([url], [FAST, c.upstreamTls ?? ''].join('\n')));
    t.after(() => gw.close());

    const reply = await get(gw.port, '/anything', { Accept: 'application/json' });
    assert.equal(reply.status, c.status);
    assert.equal(reply.headers.get('proxy-status'), `gatewise; error=${c.type}`);
    assert.equal(reply.headers.get('content-type'), 'application/problem+json');
    const problem = JSON.parse(reply.body) as Record<string, unknown>;
    assert.equal(problem.proxy_status, c.type);
    assert.equal(problem.cause, c.cause);
    assert.equal(problem.status, c.status);
    assert.equal(typeof problem.hint, 'string');
    assert.equal(problem.request_id, reply.headers.get('x-request-id'));
    // Not verbose: no upstream address leaks into the response.
    assert.ok(!reply.body.includes('127.0.0.1'), reply.body);
    const record = await gw.nextAccess();
    assert.equal(record.failure?.type, c.type);
    assert.equal(gw.failures[0]?.cause, c.cause);
  });
}

async function cutBody(t: import('node:test').TestContext, behaviour: UpstreamBehaviour): Promise<void> {
  const upstream = await startUpstream(behaviour);
  t.after(() => upstream.close());
  const gw: TestGateway = await startGateway(simpleConfig([upstream.url], FAST));
  t.after(() => gw.close());
  const reply = await rawExchange(gw.port, 'GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
  // The head went out as the upstream sent it; the body is short and the connection is reset,
  // so no client can take the short body for a complete one.
  assert.match(reply.text, /^HTTP\/1\.1 200 /);
  assert.equal(reply.reset, true, 'the client connection must be aborted');
  const record = await gw.nextAccess();
  assert.equal(record.failure?.type, 'http_response_incomplete');
}

test('classifies: body cut after the head (Content-Length) aborts the client connection', (t) =>
  cutBody(t, 'cut_length'));
test('classifies: body cut after the head (chunked) aborts the client connection', (t) => cutBody(t, 'cut_chunked'));

test('verbose errors name the upstream, server and details', async (t) => {
  const upstream = await startUpstream('refuse');
  t.after(() => upstream.close());
  const gw = await startGateway(`errors: { verbose: true }\n${simpleConfig([upstream.url], FAST)}`);
  t.after(() => gw.close());
  const reply = await get(gw.port, '/', { Accept: 'text/plain' });
  assert.equal(reply.status, 502);
  assert.match(
    reply.headers.get('proxy-status')!,
    /^gatewise; error=connection_refused; details="[^"]+"; next-hop="127\.0\.0\.1:\d+"$/,
  );
  assert.ok(reply.body.includes(`127.0.0.1:${upstream.port}`));
});

test('no route: 404 destination_not_found', async (t) => {
  const upstream = await startUpstream('ok');
  t.after(() => upstream.close());
  const gw = await startGateway(`upstreams:
  api: { servers: [{ url: ${upstream.url} }] }
routes:
  - match: { path: /api }
    upstream: api
`);
  t.after(() => gw.close());
  const reply = await get(gw.port, '/other', { Accept: 'text/html' });
  assert.equal(reply.status, 404);
  assert.equal(reply.headers.get('proxy-status'), 'gatewise; error=destination_not_found');
  assert.match(reply.headers.get('content-type')!, /^text\/html/);
  assert.match(reply.body, /<html/i);
});
