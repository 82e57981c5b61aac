/**
 * Upstream servers from DNS SRV records, end to end: a real DNS server (test/support/dns-server.ts)
 * answers SRV and A queries, real backends answer requests, and the gateway follows the records as
 * they change.
 */
import * as assert from 'node:assert/strict';
import * as dns from 'node:dns';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import type { Stamped } from '../../src/observe/events.js';
import { Gateway } from '../../src/proxy/index.js';
import { systemLookup, systemSrvLookup } from '../../src/upstream/index.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { until } from '../support/load.js';
import { get } from '../support/raw-client.js';

const SRV = '_http._tcp.api.test';
const NO_OBSERVER = { upstreamFailed: () => undefined, exchangeDone: () => undefined };

interface Backend {
  name: string;
  port: number;
  /** Requests to /hold wait until this is called. */
  release(): void;
  /** Requests to /hold received so far. */
  held: number;
}

/** A backend that answers with its name; `/hold` answers only once released. */
async function backend(t: TestContext, name: string): Promise<Backend> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const state: Backend = { name, port: 0, release, held: 0 };
  const server = http.createServer((req, res) => {
    const answer = () => res.end(`${name}\n`);
    if (req.url === '/hold') {
      state.held++;
      void released.then(answer);
    } else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    release();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  state.port = (server.address() as AddressInfo).port;
  return state;
}

function config(extra = ''): string {
  return `listen: [{ address: 127.0.0.1:0 }]
upstreams:
  api:
    discover: { srv: ${SRV}, interval: 100ms }
    dns: { refresh: 100ms }
${extra}routes:
  - match: { path: / }
    upstream: api
`;
}

/** A gateway whose host and SRV lookups go to the test DNS server. */
async function gatewayWith(t: TestContext, dnsServer: TestDnsServer, yaml: string) {
  const resolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([dnsServer.address]);
  t.after(() => resolver.cancel());
  const gateway = new Gateway(parseConfigText(yaml, 'discovery.yaml'), {
    observer: NO_OBSERVER,
    lookup: systemLookup(resolver),
    srvLookup: systemSrvLookup(resolver),
  });
  const events: Stamped[] = [];
  gateway.events.on((event) => {
    if (event.kind === 'dns') events.push(event);
  });
  await gateway.start();
  t.after(() => gateway.stop(0));
  const port = Number(gateway.addresses()[0]!.split(':').pop());
  const servers = () =>
    gateway.runtime.upstreams
      .get('api')!
      .servers.map((s) => s.address)
      .sort();
  return { gateway, port, servers, events };
}

/** A DNS server where target NAME.api.test resolves to 127.0.0.1. */
async function dnsWith(t: TestContext, ...backends: Backend[]): Promise<TestDnsServer> {
  const server = await startDnsServer();
  t.after(() => server.close());
  for (const name of ['a', 'b', 'c']) server.a.set(`${name}.api.test`, ['127.0.0.1']);
  server.srv.set(SRV, backends.map(srvEntry));
  return server;
}

const srvEntry = (b: Backend) => ({ target: `${b.name}.api.test`, port: b.port });

async function namesAnswering(port: number, requests: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const reply = await get(port, '/');
    assert.equal(reply.status, 200, reply.body);
    names.add(reply.body.trim());
  }
  return names;
}

test('servers found through SRV answer traffic; an added record adds a server', async (t) => {
  const [a, b] = [await backend(t, 'a'), await backend(t, 'b')];
  const dnsServer = await dnsWith(t, a);
  const { port, servers, events } = await gatewayWith(t, dnsServer, config());
  assert.deepEqual(servers(), [`127.0.0.1:${a.port}`]);
  assert.deepEqual(await namesAnswering(port, 3), new Set(['a']));
  assert.ok(dnsServer.queries.some((q) => q.name === SRV && q.type === 'SRV'));
  assert.ok(dnsServer.queries.some((q) => q.name === 'a.api.test' && q.type === 'A'));

  dnsServer.srv.set(SRV, [srvEntry(a), srvEntry(b)]);
  await until(() => servers().length === 2, 5000, 'the second server');
  assert.deepEqual(servers(), [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort());
  assert.deepEqual(await namesAnswering(port, 6), new Set(['a', 'b']));
  const change = events.find((e) => e.kind === 'dns' && e.host === SRV && e.addresses.length === 2);
  assert.ok(change, JSON.stringify(events));
  assert.deepEqual(
    change.kind === 'dns' && [...change.addresses].sort(),
    [`a.api.test:${a.port}`, `b.api.test:${b.port}`].sort(),
  );
});

test('a removed record takes its server out; a request in flight on it still completes', async (t) => {
  const [a, b] = [await backend(t, 'a'), await backend(t, 'b')];
  const dnsServer = await dnsWith(t, a);
  const { gateway, port, servers } = await gatewayWith(t, dnsServer, config());

  const inFlight = get(port, '/hold');
  await until(() => a.held === 1, 5000, 'the request to reach a');
  const before = gateway.runtime;

  // a goes away, b comes: new requests go to b only.
  dnsServer.srv.set(SRV, [srvEntry(b)]);
  await until(() => servers().length === 1 && servers()[0] === `127.0.0.1:${b.port}`, 5000, 'a replaced by b');
  assert.notEqual(gateway.runtime, before, 'the runtime was recompiled');
  assert.deepEqual(await namesAnswering(port, 4), new Set(['b']));

  a.release();
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.equal(reply.body.trim(), 'a');
});

test('a failed SRV lookup keeps the servers last found and emits a dns event with the error', async (t) => {
  const [a, b] = [await backend(t, 'a'), await backend(t, 'b')];
  const dnsServer = await dnsWith(t, a, b);
  const { port, servers, events } = await gatewayWith(t, dnsServer, config());
  assert.equal(servers().length, 2);

  dnsServer.failing = true;
  await until(
    () => events.some((e) => e.kind === 'dns' && e.host === SRV && e.error !== undefined),
    5000,
    'a failure event',
  );
  const failure = events.find((e) => e.kind === 'dns' && e.host === SRV && e.error !== undefined)!;
  assert.ok(failure.kind === 'dns');
  assert.match(failure.error ?? '', /ESERVFAIL/);
  assert.deepEqual([...failure.addresses].sort(), [`a.api.test:${a.port}`, `b.api.test:${b.port}`].sort());
  // The targets' A lookups fail too now: their addresses are kept as well.
  await until(() => events.some((e) => e.kind === 'dns' && e.host === 'a.api.test' && e.error !== undefined));
  assert.equal(servers().length, 2);
  assert.deepEqual(await namesAnswering(port, 6), new Set(['a', 'b']));
});

test('nothing found yet: a listed backup answers until the first SRV answer brings the servers', async (t) => {
  const [a, spare] = [await backend(t, 'a'), await backend(t, 'spare')];
  const dnsServer = await dnsWith(t);
  dnsServer.srv.delete(SRV);
  const yaml = config(`    servers: [{ url: "http://127.0.0.1:${spare.port}", backup: true }]\n`);
  const { port, servers, events } = await gatewayWith(t, dnsServer, yaml);
  // The first lookup failed (NXDOMAIN): that is an event even though nothing was kept.
  const first = events.find((e) => e.kind === 'dns' && e.host === SRV);
  assert.ok(first?.kind === 'dns');
  assert.match(first.error ?? '', /ENOTFOUND/);
  assert.deepEqual(first.addresses, []);
  assert.deepEqual(servers(), [`127.0.0.1:${spare.port}`]);
  assert.deepEqual(await namesAnswering(port, 2), new Set(['spare']));

  dnsServer.srv.set(SRV, [srvEntry(a)]);
  await until(() => servers().length === 2, 5000, 'the discovered server');
  assert.deepEqual(await namesAnswering(port, 4), new Set(['a']));
});

test('no server listed and none found: 503 destination_unavailable, then served once found', async (t) => {
  const a = await backend(t, 'a');
  const dnsServer = await dnsWith(t);
  dnsServer.srv.delete(SRV);
  const { port, servers } = await gatewayWith(t, dnsServer, config());
  assert.deepEqual(servers(), []);
  const reply = await get(port, '/');
  assert.equal(reply.status, 503);
  assert.match(reply.headers.get('proxy-status') ?? '', /error=destination_unavailable/);

  dnsServer.srv.set(SRV, [srvEntry(a)]);
  await until(() => servers().length === 1, 5000, 'the discovered server');
  assert.deepEqual(await namesAnswering(port, 2), new Set(['a']));
});

test('a reload that drops discover stops the lookups; one that changes it starts over', async (t) => {
  const [a, b] = [await backend(t, 'a'), await backend(t, 'b')];
  const dnsServer = await dnsWith(t, a);
  dnsServer.srv.set('_web._tcp.api.test', [srvEntry(b)]);
  const { gateway, port, servers } = await gatewayWith(t, dnsServer, config());
  assert.deepEqual(servers(), [`127.0.0.1:${a.port}`]);

  await gateway.reload(parseConfigText(config().replace(SRV, '_web._tcp.api.test'), 'discovery.yaml'));
  assert.deepEqual(servers(), [`127.0.0.1:${b.port}`]);
  assert.deepEqual(await namesAnswering(port, 2), new Set(['b']));

  const staticOnly = config().replace(/ {4}discover: .*\n/, `    servers: [{ url: "http://127.0.0.1:${a.port}" }]\n`);
  await gateway.reload(parseConfigText(staticOnly, 'discovery.yaml'));
  assert.deepEqual(servers(), [`127.0.0.1:${a.port}`]);
  const asked = () => dnsServer.queries.filter((q) => q.type === 'SRV').length;
  const count = asked();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(asked(), count, 'no SRV lookup after discover was dropped');
});
