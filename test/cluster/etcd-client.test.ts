/**
 * The etcd client as Gatewise sets it up: a call tries every endpoint before failing, and the
 * failures of a wrong address read as what they are (refused, not etcd, silent) with what to do.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as net from 'node:net';
import { test } from 'node:test';
import { createEtcdClient, EtcdUnavailableError, toEtcdError } from '../../src/cluster/index.js';
import { etcdAvailable, startEtcd } from '../support/etcd.js';
import { freePort } from '../support/nginx.js';

async function failureOf(url: string, timeoutMs = 1000): Promise<EtcdUnavailableError> {
  const client = createEtcdClient({ endpoints: [url], dial_timeout: timeoutMs });
  try {
    await client.get('/gatewise/config').exec();
  } catch (error) {
    const failure = toEtcdError(error, [url]);
    assert.ok(failure instanceof EtcdUnavailableError, String(failure));
    return failure;
  } finally {
    client.close();
  }
  throw new Error(`${url} answered as etcd`);
}

test('a wrong address says why, and what to check', async (t) => {
  const closed = await freePort();
  const refused = await failureOf(`http://127.0.0.1:${closed}`);
  assert.equal(refused.code, 'GW_ETCD_UNAVAILABLE');
  assert.match(
    refused.message,
    new RegExp(
      `^cannot reach etcd at http://127.0.0.1:${closed}: connection refused \\(ECONNREFUSED 127.0.0.1:${closed}\\)`,
    ),
  );

  const web = http.createServer((_req, res) => res.end('not etcd'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => web.close(resolve)));
  const notEtcd = await failureOf(`http://127.0.0.1:${(web.address() as net.AddressInfo).port}`);
  assert.match(notEtcd.reason, /is not an etcd v3 client URL/);

  // Accepts the connection, never answers: a hung etcd or a middlebox.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => silent.close(resolve));
  });
  const hung = await failureOf(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, 300);
  assert.match(hung.reason, /no answer within cluster\.etcd\.dial_timeout/);
});

test('a call tries the next endpoint when one is down', { skip: !etcdAvailable() }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const closed = `http://127.0.0.1:${await freePort()}`;
  const client = createEtcdClient({ endpoints: [closed, etcd.url], dial_timeout: 1000 });
  t.after(() => client.close());
  await client.put('/k').value('v').exec();
  // Endpoints are shuffled per call: several calls meet the closed one first.
  for (let i = 0; i < 8; i++) assert.equal(await client.get('/k').string(), 'v');
});
