/**
 * Routing as a user configures it: host (exact and wildcard), longest path prefix, methods, header
 * rules both ways, prefix stripping and rewriting, and absolute-form request targets.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { type StartedUpstream, startUpstream } from '../../src/drill/upstreams.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { echoValues, header, parseEcho, rawRequest, type WireReply } from '../support/wire.js';

type T = import('node:test').TestContext;

interface Setup {
  gw: TestGateway;
  ups: Record<string, StartedUpstream>;
}

/** Starts upstreams named by `names` (each its own upstream group) and a gateway with `routes`. */
async function setup(t: T, names: readonly string[], routes: string): Promise<Setup> {
  const ups: Record<string, StartedUpstream> = {};
  for (const name of names) {
    const u = await startUpstream('ok', { name });
    t.after(() => u.close());
    ups[name] = u;
  }
  const upstreams = names.map((n) => `  ${n}:\n    servers: [{ url: ${ups[n]!.url} }]`).join('\n');
  const gw = await startGateway(`upstreams:\n${upstreams}\nroutes:\n${routes}`);
  t.after(() => gw.close());
  return { gw, ups };
}

async function echo(port: number, target: string, host = 't', method = 'GET', extra = ''): Promise<WireReply> {
  return rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
}

function servedBy(reply: WireReply): string | null {
  assert.equal(reply.status, 200, reply.body.toString());
  return parseEcho(reply).server;
}

test('exact host, wildcard host and any host', async (t) => {
  const { gw } = await setup(
    t,
    ['exact', 'wild', 'any'],
    `  - match: { host: api.example.com, path: /echo }
    upstream: exact
  - match: { host: "*.example.com", path: /echo }
    upstream: wild
  - match: { path: /echo }
    upstream: any
`,
  );
  assert.equal(servedBy(await echo(gw.port, '/echo', 'api.example.com')), 'exact');
  assert.equal(servedBy(await echo(gw.port, '/echo', 'API.Example.COM:8080')), 'exact');
  assert.equal(servedBy(await echo(gw.port, '/echo', 'www.example.com')), 'wild');
  assert.equal(servedBy(await echo(gw.port, '/echo', 'a.b.example.com')), 'wild');
  // The wildcard needs a label of its own: the bare domain is not below itself.
  assert.equal(servedBy(await echo(gw.port, '/echo', 'example.com')), 'any');
  assert.equal(servedBy(await echo(gw.port, '/echo', 'other.test')), 'any');
});

test('the longest path prefix wins, at segment boundaries', async (t) => {
  const { gw } = await setup(
    t,
    ['root', 'echo', 'deep'],
    `  - match: { path: / }
    upstream: root
  - match: { path: /echo }
    upstream: echo
  - match: { path: /echo/deep }
    upstream: deep
`,
  );
  assert.equal(servedBy(await echo(gw.port, '/echo')), 'echo');
  assert.equal(servedBy(await echo(gw.port, '/echo/x')), 'echo');
  assert.equal(servedBy(await echo(gw.port, '/echo?q=1')), 'echo');
  assert.equal(servedBy(await echo(gw.port, '/echo/deep/er')), 'deep');
  assert.equal(servedBy(await echo(gw.port, '/echo/deeper')), 'echo');
  // /echoes is not below /echo: the root route takes it (and the upstream has no such path).
  const other = await echo(gw.port, '/echoes');
  assert.equal(other.status, 404);
  assert.equal(header(other, 'x-server'), 'root');
});

test('method match', async (t) => {
  const { gw } = await setup(
    t,
    ['writes', 'reads'],
    `  - match: { path: /echo, methods: [POST, PUT] }
    upstream: writes
  - match: { path: /echo }
    upstream: reads
`,
  );
  assert.equal(servedBy(await echo(gw.port, '/echo', 't', 'POST', 'Content-Length: 0\r\n')), 'writes');
  assert.equal(servedBy(await echo(gw.port, '/echo', 't', 'PUT', 'Content-Length: 0\r\n')), 'writes');
  assert.equal(servedBy(await echo(gw.port, '/echo', 't', 'GET')), 'reads');
  assert.equal(servedBy(await echo(gw.port, '/echo', 't', 'DELETE')), 'reads');
});

test('a method no route takes gets 404', async (t) => {
  const { gw, ups } = await setup(
    t,
    ['writes'],
    `  - match: { path: /echo, methods: [POST] }
    upstream: writes
`,
  );
  const reply = await echo(gw.port, '/echo', 't', 'GET');
  assert.equal(reply.status, 404);
  assert.equal(ups.writes!.requests, 0);
});

test('request header rules: set, add, remove', async (t) => {
  const { gw } = await setup(
    t,
    ['a'],
    `  - match: { path: / }
    upstream: a
    request_headers:
      set: { X-Env: prod, User-Agent: gatewise-test }
      add: { X-Tag: added }
      remove: [X-Drop-Me, Cookie]
`,
  );
  const reply = await echo(
    gw.port,
    '/echo',
    't',
    'GET',
    'X-Env: dev\r\nx-env: staging\r\nUser-Agent: curl/8\r\nX-Tag: original\r\nX-Drop-Me: 1\r\nCookie: a=b\r\nX-Keep: k\r\n',
  );
  const e = parseEcho(reply);
  assert.deepEqual(echoValues(e, 'x-env'), ['prod']);
  assert.deepEqual(echoValues(e, 'user-agent'), ['gatewise-test']);
  assert.deepEqual(echoValues(e, 'x-tag'), ['original', 'added']);
  assert.deepEqual(echoValues(e, 'x-drop-me'), []);
  assert.deepEqual(echoValues(e, 'cookie'), []);
  assert.deepEqual(echoValues(e, 'x-keep'), ['k']);
});

test('response header rules: set, add, remove', async (t) => {
  const { gw } = await setup(
    t,
    ['a'],
    `  - match: { path: / }
    upstream: a
    response_headers:
      set: { X-Server: masked, Cache-Control: no-store }
      add: { X-Frame-Options: DENY }
      remove: [Content-Type]
`,
  );
  const reply = await echo(gw.port, '/echo');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.headers.get('x-server'), ['masked']);
  assert.deepEqual(reply.headers.get('cache-control'), ['no-store']);
  assert.deepEqual(reply.headers.get('x-frame-options'), ['DENY']);
  assert.equal(header(reply, 'content-type'), undefined);
  assert.equal(parseEcho(reply).server, 'a');
});

test('strip_prefix removes the matched prefix (query kept)', async (t) => {
  const { gw } = await setup(
    t,
    ['a', 'b'],
    `  - match: { path: /api }
    upstream: a
    strip_prefix: true
  - match: { path: /svc/ }
    upstream: b
    strip_prefix: true
`,
  );
  assert.equal(parseEcho(await echo(gw.port, '/api/echo/x?q=1')).url, '/echo/x?q=1');
  assert.equal(parseEcho(await echo(gw.port, '/svc/echo')).url, '/echo');
  // Only the prefix itself: the upstream gets "/" (its health route answers "ok").
  const bare = await echo(gw.port, '/api');
  assert.equal(bare.status, 200);
  assert.equal(bare.body.toString(), 'ok');
  const query = await echo(gw.port, '/api?x=1');
  assert.equal(query.status, 200);
  assert.equal(query.body.toString(), 'ok');
});

test('rewrite_prefix replaces the matched prefix', async (t) => {
  const { gw } = await setup(
    t,
    ['a', 'b'],
    `  - match: { path: /v1 }
    upstream: a
    rewrite_prefix: /echo/v2
  - match: { path: /old/ }
    upstream: b
    rewrite_prefix: /echo/
`,
  );
  assert.equal(parseEcho(await echo(gw.port, '/v1/users?id=7')).url, '/echo/v2/users?id=7');
  assert.equal(parseEcho(await echo(gw.port, '/v1')).url, '/echo/v2');
  assert.equal(parseEcho(await echo(gw.port, '/old/thing')).url, '/echo/thing');
});

test('absolute-form target is rewritten to origin-form and Host replaced', async (t) => {
  const { gw } = await setup(
    t,
    ['exact', 'any'],
    `  - match: { host: api.example.com, path: / }
    upstream: exact
  - match: { path: / }
    upstream: any
`,
  );
  const reply = await rawRequest(
    gw.port,
    'GET http://api.example.com:8080/echo/p?q=1 HTTP/1.1\r\nHost: wrong.example\r\nConnection: close\r\n\r\n',
  );
  const e = parseEcho(reply);
  assert.equal(e.server, 'exact');
  assert.equal(e.url, '/echo/p?q=1');
  assert.deepEqual(echoValues(e, 'host'), ['api.example.com:8080']);
});

test('Host is forwarded as the client sent it', async (t) => {
  const { gw } = await setup(t, ['a'], '  - match: { path: / }\n    upstream: a\n');
  const e = parseEcho(await echo(gw.port, '/echo', 'shop.example.org:8443'));
  assert.deepEqual(echoValues(e, 'host'), ['shop.example.org:8443']);
  assert.deepEqual(echoValues(e, 'x-forwarded-host'), ['shop.example.org:8443']);
});
