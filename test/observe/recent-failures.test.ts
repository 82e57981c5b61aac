/**
 * The recent-failures ring, filled by a real gateway whose upstreams refuse or break: what an operator
 * looking up a request id sees.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import { RecentFailures } from '../../src/observe/recent-failures.js';
import { Gateway } from '../../src/proxy/index.js';
import { simpleConfig } from '../support/gateway.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';
import { rawRequest } from '../support/wire.js';

type T = import('node:test').TestContext;

async function gatewayWith(t: T, failures: RecentFailures, urls: readonly string[], extra = ''): Promise<number> {
  const gateway = new Gateway(
    parseConfigText(
      `listen: [{ address: 127.0.0.1:0 }]\nadmin: { address: 127.0.0.1:0 }\n${simpleConfig(urls, extra)}`,
      'recent.yaml',
    ),
    { observer: failures },
  );
  await gateway.start();
  t.after(() => gateway.stop(0));
  const address = gateway.addresses()[0]!;
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

function get(port: number, requestId: string): Promise<number> {
  return rawRequest(
    port,
    `GET /${requestId} HTTP/1.1\r\nHost: t\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n`,
  ).then((r) => r.status);
}

test('every failed try is kept with its diagnosis, newest first, findable by request id', async (t) => {
  const refusing = await startUpstream('refuse');
  t.after(() => refusing.close());
  const good = await startSwitchUpstream('good');
  t.after(() => good.close());
  let now = Date.parse('2026-01-02T03:04:05.000Z');
  const failures = new RecentFailures({ now: () => now });
  const port = await gatewayWith(t, failures, [refusing.url, good.url], '    retries: { attempts: 2 }');
  for (let i = 0; i < 4; i++) {
    now += 1000;
    assert.equal(await get(port, `req-${i}`), 200, 'the retry hides the refusing server from the user');
  }
  assert.ok(failures.size >= 1, 'round robin sent some request to the refusing server first');
  const list = failures.list();
  assert.equal(list.length, failures.size);
  for (const r of list) {
    assert.equal(r.error_type, 'connection_refused');
    assert.equal(r.cause, 'backend_down');
    assert.equal(r.phase, 'connect');
    assert.equal(r.code, 'ECONNREFUSED');
    assert.equal(r.upstream, 'api');
    assert.equal(r.server, `127.0.0.1:${refusing.port}`);
    assert.equal(r.attempt, 1);
    assert.equal(r.route, '#0 /');
    assert.ok(r.hint.length > 0);
    assert.match(r.detail, /connect/);
    assert.equal(r.head_ms, null, 'no response head was read');
    assert.match(r.request_id, /^req-\d$/);
  }
  // Newest first: request ids (and times) descend.
  const ids = list.map((r) => r.request_id);
  assert.deepEqual(ids, [...ids].sort().reverse());
  const times = list.map((r) => Date.parse(r.time));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
  );
  const first = list.at(-1)!;
  assert.deepEqual(failures.get(first.request_id), first);
  assert.deepEqual(failures.all(first.request_id), [first]);
  assert.equal(failures.get('never-sent'), undefined);
  assert.deepEqual(failures.list(1), [list[0]]);
  assert.deepEqual(failures.list(0), []);
});

test('the ring keeps the newest `capacity` failures; a request retried keeps each try', async (t) => {
  const a = await startUpstream('refuse');
  t.after(() => a.close());
  const b = await startUpstream('reset');
  t.after(() => b.close());
  const failures = new RecentFailures({ capacity: 3 });
  const port = await gatewayWith(t, failures, [a.url, b.url], '    retries: { attempts: 2 }');
  assert.equal(await get(port, 'only'), 502);
  // Two tries, two servers, two causes.
  const both = failures.all('only');
  assert.equal(both.length, 2);
  assert.deepEqual(
    both.map((r) => r.attempt),
    [2, 1],
  );
  assert.deepEqual(new Set(both.map((r) => r.server)), new Set([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]));
  assert.deepEqual(failures.get('only'), both[0], 'get() gives the last try');

  assert.equal(await get(port, 'next'), 502);
  assert.equal(failures.size, 3);
  const ids = failures.list().map((r) => r.request_id);
  assert.deepEqual(ids, ['next', 'next', 'only'], 'the oldest try fell out of the ring');
  assert.equal(failures.all('only').length, 1);
  assert.equal(failures.all('only')[0]!.attempt, 2);
});

test('capacity must be a positive integer', () => {
  assert.throws(() => new RecentFailures({ capacity: 0 }), RangeError);
  assert.throws(() => new RecentFailures({ capacity: 1.5 }), RangeError);
  assert.equal(new RecentFailures().capacity, 200);
});
