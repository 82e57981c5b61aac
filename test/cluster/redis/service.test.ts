/**
 * A whole Service with `cluster.redis`: the shared state is wired in — a `scope: cluster` rate limit
 * keeps its bucket in Redis.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { parseConfigText } from '../../../src/config/index.js';
import { Service } from '../../../src/service.js';
import { get } from '../../support/raw-client.js';
import { startRedis } from '../../support/redis.js';
import { startService } from '../../support/service.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';

test('a Service with cluster.redis limits a cluster-scoped route through Redis', async (t) => {
  const redis = await startRedis(t);
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const { port, service } = await startService(
    t,
    `upstreams:
  api: { servers: [{ url: ${backend.url} }] }
routes:
  - match: { path: / }
    upstream: api
    rate_limit: { rate: 3, per: 1m, scope: cluster }
cluster:
  node_id: gw-test
  redis: { url: ${redis.url} }
`,
  );
  assert.ok(service.shared, 'shared state exists');
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await get(port, '/')).status);
  // The bucket holds 3 for the minute; a node may admit one more on credit (repaid later).
  const admitted = statuses.filter((s) => s === 200).length;
  assert.ok(admitted >= 3 && admitted <= 4, `admitted ${admitted}: ${statuses.join(',')}`);
  assert.ok(statuses.slice(-3).every((s) => s === 429));
  const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: true });
  t.after(() => client.disconnect());
  await client.connect();
  const keys = await client.keys('gatewise:rl:*');
  assert.equal(keys.length, 1, `one bucket in Redis: ${keys.join(', ')}`);
});

test('the Redis client is loaded only for a config with cluster.redis, through Service.create', () => {
  const config = parseConfigText(
    `listen: [{ address: 127.0.0.1:0 }]
upstreams:
  api: { servers: [{ url: http://127.0.0.1:9 }] }
routes: [{ upstream: api }]
cluster: { redis: { url: redis://127.0.0.1:9 } }
`,
    'redis.yaml',
  );
  assert.throws(() => new Service({ config }), /cluster\.redis is set: create the service with Service\.create\(\)/);
});
