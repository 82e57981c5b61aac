/**
 * Rate limits with `scope: cluster` across three nodes sharing one real Redis: one budget for all of
 * them; Redis killed: no 5xx, each node enforces the limit alone, one warning; Redis back: shared again.
 */
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';
import { delay, until } from '../../support/load.js';
import { startRedis } from '../../support/redis.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';
import { type ClusterNode, closeAgent, drive, startNode } from './nodes.js';

after(closeAgent);

function limitedConfig(backendUrl: string): string {
  return `upstreams:
  api:
    servers: [{ url: ${backendUrl} }]
routes:
  - match: { path: / }
    upstream: api
    rate_limit: { rate: 10, per: 1s, scope: cluster }
`;
}

async function threeNodes(t: Parameters<typeof startNode>[0], redisUrl: string, body: string): Promise<ClusterNode[]> {
  return Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(t, id, redisUrl, body)));
}

const count = (results: Array<{ atMs: number; status: number }>, status: number, from = 0, to = Infinity) =>
  results.filter((r) => r.status === status && r.atMs >= from && r.atMs < to).length;

test('a shared limit of 10 per second across three nodes admits about 10 per second in total', async (t) => {
  const redis = await startRedis(t);
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const nodes = await threeNodes(t, redis.url, limitedConfig(backend.url));
  assert.ok(
    nodes.every((n) => n.shared.link.up),
    'every node reached Redis',
  );

  // 60 requests a second, spread over the three nodes, for 4 s: the burst (10) goes in the first
  // second, then the bucket refills at 10 a second for the whole cluster.
  const results = await drive(
    nodes.map((n) => n.port),
    60,
    4000,
  );
  const statuses = new Set(results.map((r) => r.status));
  assert.deepEqual([...statuses].sort(), [200, 429], `only 200 and 429, got ${[...statuses]}`);
  const steady = count(results, 200, 1000, 4000) / 3;
  const total = count(results, 200);
  t.diagnostic(`admitted ${total} of ${results.length} in 4 s; ${steady.toFixed(1)}/s over the last 3 s`);
  // Per node alone each would admit 10 + 10/s: 40 each, 120 in total. Shared: 10 + 4 × 10 = 50.
  assert.ok(steady >= 7 && steady <= 13, `steady rate ${steady}/s is not about 10/s`);
  assert.ok(total >= 35 && total <= 65, `admitted ${total} in 4 s, expected about 50`);
  // Every node took part (round robin): the budget is not one node's.
  for (const node of nodes) {
    assert.equal(node.shared.rateLimits.fallback, 0, `${node.id} never fell back`);
    assert.ok(node.shared.rateLimits.leases > 0, `${node.id} leased tokens`);
  }
});

test('Redis killed: no 5xx, each node limits alone and warns once; Redis back: shared again within 5 s', async (t) => {
  const redis = await startRedis(t);
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const nodes = await threeNodes(t, redis.url, limitedConfig(backend.url));
  const ports = nodes.map((n) => n.port);
  // Use the shared budget up first.
  await drive(ports, 60, 1000);

  await redis.kill();
  const outage = await drive(ports, 60, 3000);
  assert.equal(
    outage.filter((r) => r.status !== 200 && r.status !== 429).length,
    0,
    `no status but 200 and 429 while Redis is down: ${outage.map((r) => r.status).join(',')}`,
  );
  // Each node enforces 10/s alone (its bucket starts full): three times the shared rate in total.
  const local = count(outage, 200, 1000, 3000) / 2;
  t.diagnostic(`while Redis was down: ${local.toFixed(1)}/s admitted in total over the last 2 s`);
  assert.ok(local >= 20 && local <= 40, `local limits admit about 30/s in total, got ${local}`);
  for (const node of nodes) {
    assert.equal(node.shared.link.state, 'down');
    assert.equal(node.warnings.length, 1, `${node.id} warned once: ${JSON.stringify(node.warnings)}`);
    assert.match(String(node.warnings[0]!.msg), /redis unreachable/);
    assert.ok(node.shared.rateLimits.fallback > 0, `${node.id} counted its local decisions`);
    const metrics = await node.metrics.register.metrics();
    assert.match(metrics, /^gatewise_rate_limit_local_fallback_total [1-9]\d*$/m);
    assert.match(metrics, /^gatewise_redis_up 0$/m);
    assert.match(metrics, /^gatewise_redis_unavailable_total 1$/m);
  }

  const restartedAt = Date.now();
  await redis.restart();
  await until(() => nodes.every((n) => n.shared.link.up), 5000, 'every node back on Redis');
  const backMs = Date.now() - restartedAt;
  t.diagnostic(`shared again ${backMs} ms after Redis was started again`);
  assert.ok(backMs < 5000);
  // The restarted Redis is empty: a full bucket (10), then 10/s for the cluster.
  await delay(100);
  const shared = await drive(ports, 60, 2000);
  const admitted = count(shared, 200);
  t.diagnostic(`after Redis came back: ${admitted} admitted in 2 s`);
  assert.ok(admitted <= 40, `shared again: about 10 + 2 × 10 admitted, not 3 × that; got ${admitted}`);
  assert.ok(admitted >= 20, `shared budget is spent, got ${admitted}`);
  for (const node of nodes) {
    assert.equal(node.warnings.length, 1, `${node.id}: still one warning after the recovery`);
    assert.ok(node.infos.some((r) => /reachable again/.test(String(r.msg))));
  }
});

test('a node that cannot reach Redis at all starts anyway, on local limits', async (t) => {
  const redis = await startRedis(t);
  const url = redis.url;
  await redis.kill();
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const node = await startNode(t, 'alone', url, limitedConfig(backend.url));
  assert.equal(node.shared.link.state, 'down');
  assert.equal(node.warnings.length, 1);
  const results = await drive([node.port], 30, 1000);
  // The local bucket: its burst of 10 at once, then 10/s: about 20 in the first second.
  const admitted = count(results, 200);
  assert.ok(admitted >= 15 && admitted <= 21, `about 20 admitted, got ${admitted}`);
  assert.equal(count(results, 429), results.length - admitted);
  assert.ok(node.shared.rateLimits.fallback >= results.length);
});
