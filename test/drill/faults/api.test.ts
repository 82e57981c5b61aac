/**
 * The control API driven with fetch exactly as Toxiproxy's README documents it: paths, methods,
 * JSON shapes (field order included), status codes and error bodies.
 */
import * as assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { FAULT_PROXY_VERSION, type FaultProxyServer, parseHostPort } from '../../../src/drill/faults/index.js';
import { connectOutcome, exchange, startFaults, startTcpUpstream } from './helpers.js';

interface Answer {
  status: number;
  json: unknown;
  text: string;
}

function api(server: FaultProxyServer) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${server.controlUrl}${path}`, {
      method,
      headers: { 'user-agent': 'toxiproxy-test', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
}

async function setup(t: TestContext) {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t, (socket) => socket.end('from upstream'));
  return { faults, upstream, call: api(faults) };
}

function portOf(listen: unknown): number {
  return parseHostPort(listen as string)!.port;
}

test('GET /version answers the version as JSON', async (t) => {
  const { call } = await setup(t);
  const answer = await call('GET', '/version');
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { version: FAULT_PROXY_VERSION });
});

test('proxies: create (201), show, list, duplicate (409), missing fields and bad bodies (400), unknown (404)', async (t) => {
  const { upstream, call } = await setup(t);
  const created = await call('POST', '/proxies', {
    name: 'redis',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstream.port}`,
  });
  assert.equal(created.status, 201);
  const proxy = created.json as Record<string, unknown>;
  assert.deepEqual(Object.keys(proxy), ['name', 'listen', 'upstream', 'enabled', 'toxics']);
  assert.equal(proxy['enabled'], true);
  assert.deepEqual(proxy['toxics'], []);
  assert.notEqual(portOf(proxy['listen']), 0, 'port 0 is replaced by the port the listener got');

  const through = await exchange(t, portOf(proxy['listen']), undefined).done;
  assert.equal(through.bytes.toString(), 'from upstream');

  assert.deepEqual((await call('GET', '/proxies/redis')).json, proxy);
  assert.deepEqual((await call('GET', '/proxies')).json, { redis: proxy });

  assert.deepEqual(await call('POST', '/proxies', { name: 'redis', listen: '127.0.0.1:0', upstream: 'x:1' }), {
    status: 409,
    json: { error: 'proxy already exists', status: 409 },
    text: '{"error":"proxy already exists","status":409}',
  });
  const noName = await call('POST', '/proxies', { upstream: 'x:1' });
  assert.equal(noName.status, 400);
  assert.deepEqual(noName.json, { error: 'missing required field: name', status: 400 });
  const noUpstream = await call('POST', '/proxies', { name: 'a' });
  assert.deepEqual(noUpstream.json, { error: 'missing required field: upstream', status: 400 });
  const broken = await call('POST', '/proxies', '{"name":');
  assert.equal(broken.status, 400);
  assert.match((broken.json as { error: string }).error, /^bad request body: /);
  const empty = await call('POST', '/proxies', '');
  assert.deepEqual(empty.json, { error: 'bad request body: EOF', status: 400 });

  assert.deepEqual(await call('GET', '/proxies/nope'), {
    status: 404,
    json: { error: 'proxy not found', status: 404 },
    text: '{"error":"proxy not found","status":404}',
  });
  assert.equal((await call('DELETE', '/proxies/nope')).status, 404);
});

test('proxies: update enabled (down and up), upstream and listen; delete (204)', async (t) => {
  const { upstream, call } = await setup(t);
  const other = await startTcpUpstream(t, (socket) => socket.end('from the other one'));
  const created = await call('POST', '/proxies', {
    name: 'web',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstream.port}`,
  });
  const port = portOf((created.json as { listen: string }).listen);

  const down = await call('POST', '/proxies/web', { enabled: false });
  assert.equal(down.status, 200);
  assert.equal((down.json as { enabled: boolean }).enabled, false);
  assert.equal(await connectOutcome(port), 'ECONNREFUSED');
  const up = await call('PATCH', '/proxies/web', { enabled: true });
  assert.equal((up.json as { enabled: boolean }).enabled, true);
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), 'from upstream');

  const moved = await call('POST', '/proxies/web', { upstream: `127.0.0.1:${other.port}` });
  assert.equal((moved.json as { upstream: string }).upstream, `127.0.0.1:${other.port}`);
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), 'from the other one');

  const relisten = await call('POST', '/proxies/web', { listen: '127.0.0.1:0' });
  const newPort = portOf((relisten.json as { listen: string }).listen);
  assert.notEqual(newPort, port);
  assert.equal(await connectOutcome(port), 'ECONNREFUSED');
  assert.equal((await exchange(t, newPort, undefined).done).bytes.toString(), 'from the other one');

  const removed = await call('DELETE', '/proxies/web');
  assert.equal(removed.status, 204);
  assert.equal(removed.text, '');
  assert.equal(await connectOutcome(newPort), 'ECONNREFUSED');
  assert.deepEqual((await call('GET', '/proxies')).json, {});
});

test('toxics: create (200, name <type>_<stream>), list, show, update (merge), delete, and their errors', async (t) => {
  const { upstream, call } = await setup(t);
  const created = await call('POST', '/proxies', {
    name: 'db',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstream.port}`,
  });
  const port = portOf((created.json as { listen: string }).listen);

  const latency = await call('POST', '/proxies/db/toxics', { type: 'latency', attributes: { latency: 100 } });
  assert.equal(latency.status, 200);
  assert.deepEqual(Object.keys(latency.json as object), ['attributes', 'name', 'type', 'stream', 'toxicity']);
  assert.deepEqual(latency.json, {
    attributes: { latency: 100, jitter: 0 },
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
  });
  const limit = await call('POST', '/proxies/db/toxics', {
    name: 'cut',
    type: 'limit_data',
    stream: 'downstream',
    toxicity: 1,
    attributes: { bytes: 4 },
  });
  assert.equal(limit.status, 200);
  const slow = await call('POST', '/proxies/db/toxics', { type: 'slow_close', stream: 'upstream' });
  assert.equal((slow.json as { name: string }).name, 'slow_close_upstream');

  const list = await call('GET', '/proxies/db/toxics');
  assert.deepEqual(
    (list.json as { name: string }[]).map((toxic) => toxic.name),
    ['slow_close_upstream', 'latency_downstream', 'cut'],
    'upstream toxics first, then downstream, each in the order added',
  );
  assert.deepEqual(((await call('GET', '/proxies/db')).json as { toxics: unknown }).toxics, list.json);
  assert.deepEqual((await call('GET', '/proxies/db/toxics/cut')).json, limit.json);

  const cut = await exchange(t, port, undefined, 3000).done;
  assert.equal(cut.bytes.toString(), 'from', 'the toxics apply to new connections');

  const updated = await call('POST', '/proxies/db/toxics/latency_downstream', {
    attributes: { jitter: 10 },
    toxicity: 0.5,
  });
  assert.equal(updated.status, 200);
  assert.deepEqual(updated.json, {
    attributes: { latency: 100, jitter: 10 },
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.5,
  });
  const patched = await call('PATCH', '/proxies/db/toxics/cut', { attributes: { bytes: 6 } });
  assert.deepEqual((patched.json as { attributes: unknown }).attributes, { bytes: 6 });

  const errorOf = async (method: string, path: string, body?: unknown) => (await call(method, path, body)).json;
  assert.deepEqual(await errorOf('POST', '/proxies/db/toxics', { type: 'latency' }), {
    error: 'toxic already exists',
    status: 409,
  });
  assert.deepEqual(await errorOf('POST', '/proxies/db/toxics', { type: 'nonsense' }), {
    error: 'invalid toxic type',
    status: 400,
  });
  assert.deepEqual(await errorOf('POST', '/proxies/db/toxics', { type: 'latency', stream: 'sideways' }), {
    error: 'stream was invalid, can be either upstream or downstream',
    status: 400,
  });
  const fraction = await call('POST', '/proxies/db/toxics', { type: 'bandwidth', attributes: { rate: 1.5 } });
  assert.equal(fraction.status, 400);
  assert.match((fraction.json as { error: string }).error, /^bad request body: /);
  assert.deepEqual(await errorOf('GET', '/proxies/db/toxics/nope'), { error: 'toxic not found', status: 404 });
  assert.deepEqual(await errorOf('POST', '/proxies/nope/toxics', { type: 'latency' }), {
    error: 'proxy not found',
    status: 404,
  });

  const removed = await call('DELETE', '/proxies/db/toxics/cut');
  assert.equal(removed.status, 204);
  assert.equal((await call('DELETE', '/proxies/db/toxics/cut')).status, 404);
  assert.equal(((await call('GET', '/proxies/db/toxics')).json as unknown[]).length, 2);
});

test('POST /reset enables every proxy and removes every toxic (204)', async (t) => {
  const { upstream, call } = await setup(t);
  const created = await call('POST', '/proxies', {
    name: 'q',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstream.port}`,
  });
  const port = portOf((created.json as { listen: string }).listen);
  await call('POST', '/proxies/q/toxics', { type: 'timeout', attributes: { timeout: 0 } });
  await call('POST', '/proxies/q', { enabled: false });

  const reset = await call('POST', '/reset');
  assert.equal(reset.status, 204);
  const proxy = (await call('GET', '/proxies/q')).json as { enabled: boolean; toxics: unknown[] };
  assert.equal(proxy.enabled, true);
  assert.deepEqual(proxy.toxics, []);
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), 'from upstream');
});

test('POST /populate creates, keeps identical proxies untouched, replaces changed ones, checks all first', async (t) => {
  const { upstream, call } = await setup(t);
  const list = [
    { name: 'one', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstream.port}` },
    { name: 'two', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstream.port}`, enabled: false },
  ];
  const first = await call('POST', '/populate', list);
  assert.equal(first.status, 201);
  const proxies = (first.json as { proxies: { name: string; listen: string; enabled: boolean }[] }).proxies;
  assert.deepEqual(
    proxies.map((proxy) => [proxy.name, proxy.enabled]),
    [
      ['one', true],
      ['two', false],
    ],
  );
  const onePort = portOf(proxies[0]!.listen);
  await call('POST', '/proxies/one/toxics', { type: 'latency', attributes: { latency: 1 } });

  const same = await call('POST', '/populate', [
    { name: 'one', listen: proxies[0]!.listen, upstream: list[0]!.upstream },
  ]);
  assert.equal(same.status, 201);
  const kept = (same.json as { proxies: { toxics: unknown[] }[] }).proxies[0]!;
  assert.equal(kept.toxics.length, 1, 'an identical proxy is kept with its toxics');

  const changed = await call('POST', '/populate', [
    { name: 'one', listen: proxies[0]!.listen, upstream: '127.0.0.1:1' },
  ]);
  const replaced = (changed.json as { proxies: { upstream: string; toxics: unknown[] }[] }).proxies[0]!;
  assert.equal(replaced.upstream, '127.0.0.1:1');
  assert.deepEqual(replaced.toxics, []);

  const invalid = await call('POST', '/populate', [{ name: 'three', upstream: 'x:1' }, { name: 'four' }]);
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.json, { error: 'missing required field: upstream at proxy 2', status: 400, proxies: [] });
  assert.equal((await call('GET', '/proxies/three')).status, 404, 'nothing is created when one entry is invalid');

  const clash = await call('POST', '/populate', [{ name: 'five', listen: `127.0.0.1:${onePort}`, upstream: 'x:1' }]);
  assert.equal(clash.status, 500, 'a port already in use fails as in Toxiproxy');
  assert.match((clash.json as { error: string }).error, /127\.0\.0\.1:\d+/);
});

test('browsers are refused (403); unknown paths are 404 and wrong methods 405', async (t) => {
  const { call } = await setup(t);
  const browser = await call('GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' });
  assert.equal(browser.status, 403);
  assert.equal(browser.text, 'User agent not allowed\n');
  assert.equal((await call('GET', '/nothing')).status, 404);
  assert.equal((await call('PUT', '/proxies')).status, 405);
  assert.equal((await call('GET', '/reset')).status, 405);
});
