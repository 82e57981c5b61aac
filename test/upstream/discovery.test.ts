import * as assert from 'node:assert/strict';
import * as dns from 'node:dns';
import { type TestContext, test } from 'node:test';
import {
  type DiscoveredServers,
  NoSrvRecordError,
  SrvDiscovery,
  serversFromSrv,
  systemSrvLookup,
} from '../../src/upstream/discovery.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { until } from '../support/load.js';

const SRV = '_http._tcp.api.test';

async function dnsServer(t: TestContext): Promise<{ server: TestDnsServer; resolver: dns.promises.Resolver }> {
  const server = await startDnsServer();
  t.after(() => server.close());
  const resolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([server.address]);
  t.after(() => resolver.cancel());
  return { server, resolver };
}

function discoveryFor(t: TestContext, resolver: dns.promises.Resolver, intervalMs: number, srv = SRV) {
  const changes: DiscoveredServers[] = [];
  const errors: Array<{ error: Error; kept: DiscoveredServers | undefined }> = [];
  const discovery = new SrvDiscovery(
    srv,
    'http',
    intervalMs,
    (found) => changes.push(found),
    (error, kept) => errors.push({ error, kept }),
    systemSrvLookup(resolver),
  );
  t.after(() => discovery.stop());
  return { discovery, changes, errors };
}

const urls = (found: DiscoveredServers | undefined) => found?.servers.map((s) => s.url);

test('SRV records become servers: lowest priority primaries, higher priorities backups', () => {
  const servers = serversFromSrv(
    [
      { name: 'b.api.test', port: 8080, priority: 10, weight: 0 },
      { name: 'a.api.test.', port: 8080, priority: 10, weight: 0 },
      { name: 'spare.api.test', port: 9000, priority: 20, weight: 5 },
      { name: 'far.api.test', port: 9000, priority: 30, weight: 5 },
    ],
    'http',
  );
  assert.deepEqual(servers, [
    { url: 'http://a.api.test:8080', weight: 1, backup: false },
    { url: 'http://b.api.test:8080', weight: 1, backup: false },
    { url: 'http://far.api.test:9000', weight: 1, backup: true },
    { url: 'http://spare.api.test:9000', weight: 1, backup: true },
  ]);
});

test('SRV weights keep their ratio within a tier, the largest scaled to 100, zero to 1', () => {
  const servers = serversFromSrv(
    [
      { name: 'heavy.api.test', port: 443, priority: 0, weight: 60 },
      { name: 'light.api.test', port: 443, priority: 0, weight: 20 },
      { name: 'zero.api.test', port: 443, priority: 0, weight: 0 },
    ],
    'https',
  );
  assert.deepEqual(servers, [
    { url: 'https://heavy.api.test:443', weight: 100, backup: false },
    { url: 'https://light.api.test:443', weight: 33, backup: false },
    { url: 'https://zero.api.test:443', weight: 1, backup: false },
  ]);
});

test('a "." target (RFC 2782: no service here), port 0 and repeated targets are dropped', () => {
  assert.deepEqual(serversFromSrv([{ name: '.', port: 80, priority: 0, weight: 0 }], 'http'), []);
  assert.deepEqual(serversFromSrv([{ name: '', port: 80, priority: 0, weight: 0 }], 'http'), []);
  assert.deepEqual(
    serversFromSrv(
      [
        { name: 'a.api.test', port: 0, priority: 0, weight: 0 },
        { name: 'a.api.test', port: 80, priority: 0, weight: 0 },
        { name: 'A.api.test.', port: 80, priority: 0, weight: 0 },
      ],
      'http',
    ),
    [{ url: 'http://a.api.test:80', weight: 1, backup: false }],
  );
  assert.deepEqual(serversFromSrv([], 'http'), []);
});

test('the default SRV lookup asks a real DNS server', async (t) => {
  const { server, resolver } = await dnsServer(t);
  server.srv.set(SRV, [
    { target: 'a.api.test', port: 5001, priority: 1, weight: 10 },
    { target: 'b.api.test', port: 5002, priority: 2, weight: 20 },
  ]);
  const records = await systemSrvLookup(resolver)(SRV);
  assert.deepEqual(
    records.sort((x, y) => x.port - y.port),
    [
      { name: 'a.api.test', port: 5001, priority: 1, weight: 10 },
      { name: 'b.api.test', port: 5002, priority: 2, weight: 20 },
    ],
  );
  assert.deepEqual(server.queries, [{ name: SRV, type: 'SRV' }]);
  await assert.rejects(systemSrvLookup(resolver)('_http._tcp.unknown.test'), { code: 'ENOTFOUND' });
});

test('discovery follows added and removed records; a reordered answer is no change', async (t) => {
  const { server, resolver } = await dnsServer(t);
  server.srv.set(SRV, [{ target: 'a.api.test', port: 5001 }]);
  const { discovery, changes, errors } = discoveryFor(t, resolver, 100);
  assert.deepEqual(urls(await discovery.start()), ['http://a.api.test:5001']);
  assert.equal(discovery.current()?.srv, SRV);

  server.srv.set(SRV, [
    { target: 'a.api.test', port: 5001 },
    { target: 'b.api.test', port: 5002 },
  ]);
  await until(() => changes.length === 1, 5000, 'the added record');
  assert.deepEqual(urls(changes[0]), ['http://a.api.test:5001', 'http://b.api.test:5002']);

  server.srv.set(SRV, [
    { target: 'b.api.test', port: 5002 },
    { target: 'a.api.test', port: 5001 },
  ]);
  const asked = server.queries.length;
  await until(() => server.queries.length >= asked + 3, 5000, 'three more lookups');
  assert.equal(changes.length, 1, 'the same set in another order');

  server.srv.set(SRV, [{ target: 'b.api.test', port: 5002 }]);
  await until(() => changes.length === 2, 5000, 'the removed record');
  assert.deepEqual(urls(changes[1]), ['http://b.api.test:5002']);
  assert.deepEqual(urls(discovery.current()), ['http://b.api.test:5002']);
  assert.deepEqual(errors, []);
});

test('a failed lookup keeps the servers last found and reports the error, then recovers', async (t) => {
  const { server, resolver } = await dnsServer(t);
  server.srv.set(SRV, [{ target: 'a.api.test', port: 5001 }]);
  const { discovery, changes, errors } = discoveryFor(t, resolver, 100);
  const first = await discovery.start();

  server.failing = true;
  await until(() => errors.length >= 2, 5000, 'two failures');
  assert.equal((errors[0]!.error as NodeJS.ErrnoException).code, 'ESERVFAIL');
  assert.equal(errors[0]!.kept, first);
  assert.equal(discovery.current(), first);

  // No record at all (the Service has no ready pod, or a DNS hiccup): also kept, coded ENODATA.
  server.failing = false;
  server.srv.set(SRV, []);
  const isNoData = (e: { error: Error }) => (e.error as NodeJS.ErrnoException).code === 'ENODATA';
  await until(() => errors.some(isNoData), 5000, 'an empty answer');
  assert.deepEqual(urls(errors.find(isNoData)!.kept), ['http://a.api.test:5001']);

  // Only "." targets: no usable record, the same failure.
  server.srv.set(SRV, [{ target: '.', port: 0 }]);
  await until(() => errors.some((e) => e.error instanceof NoSrvRecordError), 5000, 'an answer without a server');
  const unusable = errors.find((e) => e.error instanceof NoSrvRecordError)!;
  assert.equal((unusable.error as NoSrvRecordError).code, 'ENODATA');
  assert.equal(unusable.error.message, `SRV name "${SRV}" has no usable record`);
  assert.deepEqual(urls(unusable.kept), ['http://a.api.test:5001']);
  assert.equal(changes.length, 0);

  server.srv.set(SRV, [{ target: 'c.api.test', port: 5003 }]);
  await until(() => changes.length === 1, 5000, 'recovery');
  assert.deepEqual(urls(discovery.current()), ['http://c.api.test:5003']);
});

test('a first lookup that fails rejects start(); the first success later is a change', async (t) => {
  const { server, resolver } = await dnsServer(t);
  const { discovery, changes, errors } = discoveryFor(t, resolver, 100);
  await assert.rejects(discovery.start(), { code: 'ENOTFOUND' });
  assert.equal(discovery.current(), undefined);
  server.srv.set(SRV, [{ target: 'a.api.test', port: 5001 }]);
  await until(() => changes.length === 1, 5000, 'the later success');
  assert.deepEqual(urls(changes[0]), ['http://a.api.test:5001']);
  assert.ok(errors.every((e) => e.kept === undefined));
});

test('stop() ends the lookups', async (t) => {
  const { server, resolver } = await dnsServer(t);
  server.srv.set(SRV, [{ target: 'a.api.test', port: 5001 }]);
  const { discovery } = discoveryFor(t, resolver, 50);
  await discovery.start();
  await until(() => server.queries.length >= 2, 5000, 'a second lookup');
  discovery.stop();
  const asked = server.queries.length;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(server.queries.length, asked);
});
