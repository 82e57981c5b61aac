/**
 * Three gateway nodes (separate `gatewise serve` processes) sharing one configuration through a real
 * etcd: a push reaches all of them, a bad version is refused by each with its reason, etcd killed
 * under load fails no request, etcd back catches them up, and a node started without etcd serves
 * its last good configuration.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { test } from 'node:test';
import { clusterKeys, createEtcdClient } from '../../src/cluster/index.js';
import { runCli } from '../support/cli.js';
import { etcdAvailable, startEtcd } from '../support/etcd.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';
import { clusterApi, eventually, get, makeNode, push, type TestNode } from './nodes.js';

const shared = (upstream: string, url: string) => `upstreams:
  ${upstream}: { servers: [{ url: ${url} }] }
routes:
  - upstream: ${upstream}
`;

interface StatusJson {
  config: { revision: number } | null;
  nodes: Array<{
    node_id: string;
    status: string;
    applied_revision: number | null;
    error: string | null;
    problems: string[];
    lagging: boolean;
  }>;
}

test('three nodes share one configuration through etcd', { skip: !etcdAvailable() && 'no etcd' }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const blue = await startSwitchUpstream('blue');
  t.after(() => blue.close());
  const green = await startSwitchUpstream('green');
  t.after(() => green.close());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  const client = createEtcdClient({ endpoints: [etcd.url], dial_timeout: 2000 });
  t.after(() => client.close());

  const serves = async (nodes: readonly TestNode[], name: string) =>
    (await Promise.all(nodes.map((node) => get(agent, node.port)))).every((r) => r.body === `${name}\n`);
  const status = async (): Promise<{ code: number | null; json: StatusJson }> => {
    const result = await runCli(['cluster', 'status', '--etcd', etcd.url, '--json']);
    return { code: result.code, json: JSON.parse(result.stdout) as StatusJson };
  };

  const first = await push(t, etcd.url, shared('blue', blue.url));
  // gw-1's file still holds keys of a whole configuration: they are named as not used.
  const stale = 'upstreams: { old: { servers: [{ url: http://127.0.0.1:1 }] } }\n';
  const nodes = await Promise.all(
    ['gw-1', 'gw-2', 'gw-3'].map((id) => makeNode(t, id, etcd.url, id === 'gw-1' ? stale : '')),
  );
  await Promise.all(nodes.map((node) => node.start()));
  assert.ok(await serves(nodes, 'blue'), 'every node serves the first version');
  assert.match(nodes[0]!.cli.output(), /keys of the node file not used[^\n]*"keys":\["upstreams"\]/);
  assert.doesNotMatch(nodes[1]!.cli.output(), /keys of the node file not used/);
  let revision = first;

  await t.test('a pushed configuration is served by all three within 2 s', async () => {
    revision = await push(t, etcd.url, shared('green', green.url));
    assert.ok(revision > first);
    await eventually('all three serve green', () => serves(nodes, 'green'), 2000);
  });

  await t.test('cluster status shows the revision every node applied', async () => {
    await eventually(
      'three ok records at the new revision',
      async () => {
        const { json } = await status();
        return json.nodes.filter((n) => n.status === 'ok' && n.applied_revision === revision).length === 3;
      },
      2000,
    );
    const { code, json } = await status();
    assert.equal(code, 0);
    assert.equal(json.config?.revision, revision);
    assert.deepEqual(
      json.nodes.map((n) => [n.node_id, n.status, n.applied_revision, n.lagging]),
      ['gw-1', 'gw-2', 'gw-3'].map((id) => [id, 'ok', revision, false]),
    );
    const table = await runCli(['cluster', 'status', '--etcd', etcd.url]);
    assert.match(table.stdout, new RegExp(`etcd:/gatewise/config: revision ${revision} `));
    assert.match(table.stdout, new RegExp(`gw-2 +ok +${revision} `));
  });

  let rejected = 0;
  await t.test('an invalid version is rejected by all three; they keep serving and say why', async () => {
    // `config push` refuses this file, so it is written the way another tool could write it.
    const put = await client
      .put(clusterKeys('/gatewise').config)
      .value(`${shared('blue', blue.url)}  - upstream: bleu\n    match: { path: /b }\n`)
      .exec();
    rejected = Number(put.header.revision);
    await eventually(
      'three rejected records',
      async () => (await status()).json.nodes.filter((n) => n.status === 'rejected').length === 3,
      2000,
    );
    const { code, json } = await status();
    assert.equal(code, 1, 'cluster status fails while nodes reject');
    for (const node of json.nodes) {
      assert.equal(node.applied_revision, revision, `${node.node_id} still serves the old revision`);
      assert.deepEqual(node.problems, ['etcd:/gatewise/config:5:15: unknown upstream "bleu" (did you mean "blue"?)']);
      assert.match(node.error ?? '', /5:15: unknown upstream "bleu"/);
    }
    assert.ok(await serves(nodes, 'green'), 'the old version is still served');
    for (const node of nodes) {
      await node.cli.waitFor(
        /"msg":"shared configuration rejected[^\n]*etcd:\/gatewise\/config:5:15: unknown upstream/,
      );
    }
  });

  await t.test('the next valid version applies', async () => {
    revision = await push(t, etcd.url, shared('blue', blue.url));
    assert.ok(revision > rejected);
    await eventually('all three serve blue', () => serves(nodes, 'blue'), 2000);
    await eventually(
      'three ok records',
      async () => (await status()).json.nodes.every((n) => n.status === 'ok' && n.applied_revision === revision),
      2000,
    );
  });

  await t.test('etcd killed under load: no request fails', async () => {
    let stop = false;
    let sent = 0;
    const failures: string[] = [];
    const load = nodes.map(async (node) => {
      while (!stop) {
        const response = await get(agent, node.port);
        sent++;
        if (response.status !== 200 || response.body !== 'blue\n')
          failures.push(`${node.id}: ${response.status} ${response.body}`);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await etcd.kill('SIGKILL');
    // Each node notices (its watch stream drops) and warns once, however many retries follow.
    for (const node of nodes) await node.cli.waitFor(/etcd unreachable: serving the running configuration/, 5000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(load);
    assert.deepEqual(failures, []);
    assert.ok(sent > 30, `requests were sent throughout (${sent})`);
    for (const node of nodes) {
      assert.equal(node.cli.output().match(/etcd unreachable: serving/g)?.length, 1, `${node.id} warned once`);
      const own = await clusterApi(node);
      assert.equal(own.node.status, 'degraded');
      assert.match(own.node.error ?? '', /etcd unreachable since .*connection refused/);
    }
  });

  await t.test('etcd back: the next push applies within 2 s', async () => {
    await etcd.restart();
    revision = await push(t, etcd.url, shared('green', green.url));
    await eventually('all three serve green', () => serves(nodes, 'green'), 2000);
    for (const node of nodes) await node.cli.waitFor(/etcd reachable again/, 2000);
    await eventually(
      'three ok records at the new revision',
      async () => (await status()).json.nodes.every((n) => n.status === 'ok' && n.applied_revision === revision),
      2000,
    );
  });

  await t.test('a node started while etcd is down serves its last good configuration', async () => {
    await etcd.kill('SIGKILL');
    const third = nodes[2]!;
    assert.equal(await third.cli.stop('SIGTERM'), 0);
    await third.start();
    assert.match(third.cli.output(), /etcd unreachable at start: serving the last good configuration/);
    assert.ok(await serves([third], 'green'));
    const own = await clusterApi(third);
    assert.equal(own.node.status, 'degraded');
    assert.equal(own.node.applied_revision, revision);
  });
});
