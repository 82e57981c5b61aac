/**
 * Rate limits with `scope: cluster` across three nodes sharing one real Redis: one budget for all of
 * them; Redis killed: no 5xx, each node enforces the limit alone, one warning; Redis back: shared again.
 */
import { strict as assert } from 'node:assert';
import { after, type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  batchSize,
  ClusterRateLimiter,
  type ClusterRateLimitOptions,
  defineLeaseCommand,
  RedisLink,
} from '../../../src/cluster/redis/index.js';
import { parseConfigText } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { compileRuntime } from '../../../src/proxy/index.js';
import { RateLimiter } from '../../../src/resilience/index.js';
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

async function linkTo(t: TestContext, url: string): Promise<RedisLink> {
  const link = new RedisLink({ url, commandTimeoutMs: 200, warn: () => {}, info: () => {} });
  t.after(() => link.stop());
  defineLeaseCommand(link);
  await link.start();
  assert.equal(link.state, 'up');
  return link;
}

async function inspector(t: TestContext, url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  t.after(() => client.disconnect());
  return client;
}

/** 10 tokens that refill by one a minute: nothing refills while a test runs. */
const slow: ClusterRateLimitOptions = { keyPrefix: 'gatewise:rl:0:/:', rate: 1, per: 60_000, burst: 10 };
const settle = () => delay(30);

test('a lease: the first request is admitted on credit, the lease pays it back first', async (t) => {
  const redis = await startRedis(t);
  const link = await linkTo(t, redis.url);
  const client = await inspector(t, redis.url);
  const stats = { fallback: 0, leases: 0 };
  const limiter = new ClusterRateLimiter(link, slow, stats);
  assert.equal(limiter.batch, 1);
  assert.equal(limiter.take('10.0.0.1', Date.now()), true);
  await settle();
  // Debt (1) + batch (1) taken from the shared bucket: 8 left, and this node holds one token.
  assert.equal(Math.floor(Number(await client.hget('gatewise:rl:0:/:10.0.0.1', 'tokens'))), 8);
  const ttl = await client.pttl('gatewise:rl:0:/:10.0.0.1');
  assert.ok(ttl > 0 && ttl <= 10 * 60_000 + 1000, `the bucket expires once it would be full again (${ttl} ms)`);
  assert.deepEqual(await client.keys('gatewise:rl:*'), ['gatewise:rl:0:/:10.0.0.1']);
});

test('two nodes on one key spend one budget: exactly the burst, then both refuse', async (t) => {
  const redis = await startRedis(t);
  const stats = { fallback: 0, leases: 0 };
  const one = new ClusterRateLimiter(await linkTo(t, redis.url), slow, stats);
  const two = new ClusterRateLimiter(await linkTo(t, redis.url), slow, stats);
  let admitted = 0;
  for (let i = 0; i < 30; i++) {
    if ((i % 2 === 0 ? one : two).take('10.0.0.1', Date.now())) admitted++;
    await settle();
  }
  assert.equal(admitted, 10);
  assert.equal(one.take('10.0.0.1', Date.now()), false);
  assert.equal(two.take('10.0.0.1', Date.now()), false);
  // The next token is a minute away, and the 429 says so.
  const retryMs = one.retryAfterMs('10.0.0.1', Date.now());
  assert.ok(retryMs > 50_000 && retryMs <= 60_000, `${retryMs}`);
  // Other clients have budgets of their own.
  assert.equal(two.take('10.0.0.2', Date.now()), true);
});

test('prune gives the unspent tokens of an idle lease back to the shared bucket', async (t) => {
  const redis = await startRedis(t);
  const link = await linkTo(t, redis.url);
  const client = await inspector(t, redis.url);
  const limiter = new ClusterRateLimiter(link, slow, { fallback: 0, leases: 0 });
  limiter.take('10.0.0.1', Date.now());
  await settle();
  assert.equal(limiter.prune(Date.now()), 0, 'a lease in use stays');
  assert.equal(limiter.prune(Date.now() + 6000), 1);
  await settle();
  assert.equal(Math.floor(Number(await client.hget('gatewise:rl:0:/:10.0.0.1', 'tokens'))), 9);
});

test('lease sizes follow the rate: one token at low rates, about 20 ms of traffic at high ones', () => {
  assert.equal(batchSize(10 / 1000, 10), 1);
  assert.equal(batchSize(1000 / 1000, 1000), 20);
  assert.equal(batchSize(1000 / 1000, 40), 5, 'never more than an eighth of the bucket');
  assert.equal(batchSize(1 / 60_000, 1), 1);
});

test('rate_limit.scope: local or cluster; cluster without shared state is the local bucket', () => {
  const text = (scope: string) => `listen: [{ address: 127.0.0.1:0 }]
upstreams: { api: { servers: [{ url: http://127.0.0.1:1 }] } }
routes:
  - match: { path: / }
    upstream: api
    rate_limit: { rate: 5, scope: ${scope} }
cluster: { redis: { url: redis://127.0.0.1:1 } }
`;
  const config = parseConfigText(text('cluster'), 'scope.yaml');
  assert.equal(config.routes[0]!.rate_limit!.scope, 'cluster');
  const runtime = compileRuntime(config, { time: { now: 0 }, emit: () => {} });
  assert.ok(runtime.router.match('x', '/', 'GET')!.rateLimiter instanceof RateLimiter);
  assert.throws(
    () => parseConfigText(text('global'), 'scope.yaml'),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.some((p) => /expected one of local, cluster; got "?global"?/.test(p.message) && p.line === 6),
  );
});
