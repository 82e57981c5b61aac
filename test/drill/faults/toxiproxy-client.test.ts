/**
 * Compatibility proven with a real Toxiproxy client, the `toxiproxy-node-client` package (a dev
 * dependency); api.test.ts covers the same API with fetch.
 */
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parseHostPort } from '../../../src/drill/faults/index.js';
import { connectOutcome, exchange, startFaults, startTcpUpstream } from './helpers.js';

/** The part of the client's API this test uses (its own .d.ts says the same). */
interface ToxicHandle {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributes: Record<string, number>;
  update(body: unknown): Promise<ToxicHandle>;
  remove(): Promise<void>;
}

interface ProxyHandle {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  update(body: unknown): Promise<ProxyHandle>;
  addToxic(body: unknown): Promise<ToxicHandle>;
  getToxic(name: string): Promise<ToxicHandle>;
  remove(): Promise<void>;
}

interface ToxiproxyClient {
  createProxy(body: unknown): Promise<ProxyHandle>;
  populate(body: unknown): Promise<Record<string, ProxyHandle>>;
  get(name: string): Promise<ProxyHandle>;
  getAll(): Promise<Record<string, ProxyHandle>>;
  getVersion(): Promise<string>;
  reset(): Promise<void>;
}

interface ClientModule {
  Toxiproxy: new (host: string) => ToxiproxyClient;
  ToxiproxyError: new (...args: never[]) => Error;
}

const client = createRequire(import.meta.url)('toxiproxy-node-client') as ClientModule;

test('toxiproxy-node-client drives the fault proxy: proxies, populate, toxics, down, reset', async (t) => {
  const { Toxiproxy, ToxiproxyError } = client;
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t, (socket) => socket.end('0123456789'));
  const toxiproxy = new Toxiproxy(faults.controlUrl!);

  assert.match(await toxiproxy.getVersion(), /"version"/);

  const proxy = await toxiproxy.createProxy({
    name: 'cache',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstream.port}`,
  });
  assert.equal(proxy.enabled, true);
  const port = parseHostPort(proxy.listen)!.port;
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), '0123456789');

  const limit = await proxy.addToxic({
    type: 'limit_data',
    stream: 'downstream',
    toxicity: 1,
    attributes: { bytes: 3 },
  });
  assert.equal(limit.name, 'limit_data_downstream');
  assert.deepEqual(limit.attributes, { bytes: 3 });
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), '012');

  const raised = await limit.update({ attributes: { bytes: 5 }, toxicity: 1 });
  assert.deepEqual(raised.attributes, { bytes: 5 });
  assert.deepEqual((await proxy.getToxic('limit_data_downstream')).attributes, { bytes: 5 });
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), '01234');
  await limit.remove();
  await assert.rejects(proxy.getToxic('limit_data_downstream'), ToxiproxyError);

  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(down.enabled, false);
  assert.equal(await connectOutcome(port), 'ECONNREFUSED');

  const populated = await toxiproxy.populate([
    { name: 'cache', listen: proxy.listen, upstream: proxy.upstream },
    { name: 'queue', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstream.port}` },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ['cache', 'queue']);
  await (await toxiproxy.get('queue')).addToxic({
    type: 'timeout',
    stream: 'upstream',
    toxicity: 1,
    attributes: { timeout: 0 },
  });

  await toxiproxy.reset();
  const all = await toxiproxy.getAll();
  assert.equal(all['cache']!.enabled, true, 'reset enables every proxy');
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), '0123456789');
  assert.deepEqual(faults.listToxics('queue'), [], 'reset removes every toxic');

  await assert.rejects(
    toxiproxy.createProxy({ name: 'cache', listen: '127.0.0.1:0', upstream: 'x:1' }),
    ToxiproxyError,
  );
  await all['queue']!.remove();
  await assert.rejects(toxiproxy.get('queue'), ToxiproxyError);
});
