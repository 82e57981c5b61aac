/**
 * Host names in server URLs: every address becomes a server, changes are picked up, failures keep
 * the last good addresses and are reported as events.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import { Gateway } from '../../src/proxy/index.js';
import type { LookupAnswer } from '../../src/upstream/dns.js';
import { until } from '../support/load.js';
import { get } from '../support/raw-client.js';

const NO_OBSERVER = { upstreamFailed: () => undefined, exchangeDone: () => undefined };

function config(url: string): string {
  return `listen: [{ address: 127.0.0.1:0 }]
upstreams:
  api:
    servers: [{ url: ${url} }]
    dns: { refresh: 200ms }
routes:
  - match: { path: / }
    upstream: api
`;
}

test('every address of a host name is a server; changes and failures are followed', async (t) => {
  const a = await startUpstream('ok', { name: 'a' });
  t.after(() => a.close());
  let answers: LookupAnswer[] | Error = [{ address: '127.0.0.1', family: 4 }];
  const lookup = async (host: string) => {
    assert.equal(host, 'api.test');
    if (answers instanceof Error) throw answers;
    return answers;
  };
  const gateway = new Gateway(parseConfigText(config(`http://api.test:${a.port}`), 'dns.yaml'), {
    observer: NO_OBSERVER,
    lookup,
  });
  const dnsEvents: Array<{ addresses: string[]; error?: string }> = [];
  gateway.events.on((e) => {
    if (e.kind === 'dns') dnsEvents.push(e);
  });
  await gateway.start();
  t.after(() => gateway.stop(0));
  const port = Number(gateway.addresses()[0]!.split(':').pop());
  const servers = () => gateway.runtime.upstreams.get('api')!.servers.map((s) => s.address);
  assert.deepEqual(servers(), [`127.0.0.1:${a.port}`]);
  assert.equal((await get(port, '/echo')).status, 200);

  // A second record appears: two servers.
  answers = [
    { address: '127.0.0.1', family: 4 },
    { address: '127.0.0.2', family: 4 },
  ];
  await until(() => servers().length === 2, 5000, 'two servers');
  assert.deepEqual(servers().sort(), [`127.0.0.1:${a.port}`, `127.0.0.2:${a.port}`]);

  // The resolver fails: the last good addresses stay, and the failure is an event.
  answers = new Error('SERVFAIL');
  await until(() => dnsEvents.some((e) => e.error !== undefined), 5000, 'a dns failure event');
  assert.equal(servers().length, 2);
  assert.equal((await get(port, '/echo')).status, 200);
});

test('localhost resolves through the system resolver to its addresses', async (t) => {
  const a = await startUpstream('ok', { name: 'a' });
  t.after(() => a.close());
  const gateway = new Gateway(parseConfigText(config(`http://localhost:${a.port}`), 'dns.yaml'), {
    observer: NO_OBSERVER,
  });
  await gateway.start();
  t.after(() => gateway.stop(0));
  const addresses = gateway.runtime.upstreams.get('api')!.servers.map((s) => s.host);
  assert.ok(addresses.includes('127.0.0.1'), `localhost resolved to ${addresses}`);
  const port = Number(gateway.addresses()[0]!.split(':').pop());
  // Whatever else localhost resolves to (::1 here, where nothing listens), requests are served.
  for (let i = 0; i < 4; i++) assert.equal((await get(port, '/echo')).status, 200);
});
