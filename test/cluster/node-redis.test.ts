/**
 * Three gateway processes sharing a rate limit through a real Redis (config from a real etcd): one
 * budget for the cluster; Redis killed, each node limits on its own and nothing fails.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { startEtcd } from '../support/etcd.js';
import { startRedis } from '../support/redis.js';
import { get, makeNode, push } from './nodes.js';

/** Requests spread over the nodes for `ms`, about `perNodeRps` each; statuses counted. */
async function spread(ports: readonly number[], perNodeRps: number, ms: number): Promise<Map<number | string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const counts = new Map<number | string, number>();
  const end = Date.now() + ms;
  await Promise.all(
    ports.map(async (port) => {
      while (Date.now() < end) {
        const { status } = await get(agent, port);
        counts.set(status, (counts.get(status) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 1000 / perNodeRps));
      }
    }),
  );
  agent.destroy();
  return counts;
}

test('three node processes share one rate limit through Redis, and limit alone without it', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const redis = await startRedis(t);
  const backend = await startUpstream('ok');
  t.after(() => backend.close());
  await push(
    t,
    etcd.url,
    `upstreams:
  api: { servers: [{ url: ${backend.url} }] }
routes:
  - upstream: api
    rate_limit: { rate: 10, per: 1s, burst: 10, scope: cluster }
`,
  );
  const nodes = [];
  for (const id of ['gw-a', 'gw-b', 'gw-c']) {
    const node = await makeNode(t, id, etcd.url, `  redis: { url: ${redis.url} }\n`);
    await node.start();
    nodes.push(node);
  }
  const ports = nodes.map((n) => n.port);

  // 3 nodes × 25 req/s for 3 s against one budget of 10/s (burst 10): about 10 + 30 admitted.
  const shared = await spread(ports, 25, 3000);
  const admitted = shared.get(200) ?? 0;
  assert.deepEqual([...shared.keys()].sort(), [200, 429], JSON.stringify([...shared]));
  assert.ok(admitted >= 30 && admitted <= 55, `admitted ${admitted} in 3 s across three nodes`);

  // Redis gone: each node applies 10/s on its own; still no 5xx and no failed request.
  await redis.kill();
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const alone = await spread(ports, 25, 3000);
  const alone200 = alone.get(200) ?? 0;
  assert.deepEqual([...alone.keys()].sort(), [200, 429], JSON.stringify([...alone]));
  assert.ok(alone200 > admitted, `local limits admit more in total (${alone200}) than the shared one (${admitted})`);
  for (const node of nodes) {
    const warnings = node.cli
      .output()
      .split('\n')
      .filter((l) => /redis/i.test(l) && l.includes('"level":40'));
    assert.equal(warnings.length, 1, `${node.id}: ${warnings.join('\n')}`);
  }
});
