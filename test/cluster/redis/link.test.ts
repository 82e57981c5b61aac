/**
 * The Redis link against a real redis-server: reconnection backoff, a hung Redis (SIGSTOP) found out
 * by a command timeout, one warning per state change, and back up as soon as it answers a PING.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  ClusterRateLimiter,
  defineLeaseCommand,
  MAX_RECONNECT_DELAY_MS,
  RedisLink,
  reconnectDelayMs,
} from '../../../src/cluster/redis/index.js';
import { until } from '../../support/load.js';
import { startRedis } from '../../support/redis.js';

test('reconnection waits grow from 50 ms and stay within a second (±20% jitter)', () => {
  assert.equal(
    reconnectDelayMs(1, () => 0.5),
    50,
  );
  assert.equal(
    reconnectDelayMs(2, () => 0.5),
    100,
  );
  assert.equal(
    reconnectDelayMs(5, () => 0.5),
    800,
  );
  assert.equal(
    reconnectDelayMs(6, () => 0.5),
    MAX_RECONNECT_DELAY_MS,
  );
  assert.equal(
    reconnectDelayMs(60, () => 0.999),
    Math.round(MAX_RECONNECT_DELAY_MS * 1.2),
  );
  assert.equal(
    reconnectDelayMs(60, () => 0),
    MAX_RECONNECT_DELAY_MS * 0.8,
  );
});

test('a hung Redis: a command timeout makes the link down (one warning), a PING brings it back', async (t) => {
  const redis = await startRedis(t);
  const warnings: Array<Record<string, unknown>> = [];
  const infos: Array<Record<string, unknown>> = [];
  const link = new RedisLink({
    url: redis.url,
    commandTimeoutMs: 200,
    warn: (r) => warnings.push(r),
    info: (r) => infos.push(r),
  });
  t.after(() => link.stop());
  defineLeaseCommand(link);
  const stats = { fallback: 0, leases: 0 };
  const limiter = new ClusterRateLimiter(
    link,
    { keyPrefix: 'gatewise:rl:t:', rate: 100, per: 1000, burst: 100 },
    stats,
  );
  await link.start();
  assert.equal(link.state, 'up');
  assert.equal(link.epoch, 1);
  assert.deepEqual(
    infos.map((r) => r.msg),
    ['redis connected: shared state is on'],
  );

  redis.pause();
  t.after(() => redis.resume());
  // The decision is made at once (on credit); the lease behind it times out.
  assert.equal(limiter.take('client', Date.now()), true);
  await until(() => link.state === 'down', 2000, 'the link goes down after the command timeout');
  assert.equal(link.stats.failures.get('rate_limit'), 1);
  assert.equal(warnings.length, 1);
  assert.match(String(warnings[0]!.msg), /redis unreachable/);
  assert.match(String(warnings[0]!.error), /timed out/i);
  // Meanwhile decisions are this node's own, and counted.
  for (let i = 0; i < 5; i++) assert.equal(limiter.take('client', Date.now()), true);
  assert.equal(stats.fallback, 5);

  redis.resume();
  await until(() => link.state === 'up', 3000, 'back up once a PING is answered');
  assert.equal(link.epoch, 2, 'a new epoch: leases from before the outage are not trusted');
  assert.equal(warnings.length, 1, 'one warning for the whole outage');
  assert.match(String(infos.at(-1)!.msg), /reachable again/);
  assert.equal(limiter.take('client', Date.now()), true);
  assert.equal(stats.fallback, 5, 'shared again');
});

test('a Redis that answers PING but fails every write (out of memory): warnings slow down, decisions go on', async (t) => {
  const redis = await startRedis(t);
  const warnings: Array<Record<string, unknown>> = [];
  const link = new RedisLink({ url: redis.url, commandTimeoutMs: 200, warn: (r) => warnings.push(r), info: () => {} });
  t.after(() => link.stop());
  defineLeaseCommand(link);
  await link.start();
  await link.client.config('SET', 'maxmemory-policy', 'noeviction');
  await link.client.config('SET', 'maxmemory', '1');
  const stats = { fallback: 0, leases: 0 };
  const limiter = new ClusterRateLimiter(
    link,
    { keyPrefix: 'gatewise:rl:t:', rate: 1000, per: 1000, burst: 1000 },
    stats,
  );
  // 3 s of steady traffic from ever new clients (each one needs a lease).
  const started = Date.now();
  for (let i = 0; Date.now() - started < 3000; i++) {
    assert.equal(limiter.take(`10.0.${i >> 8}.${i & 255}`, Date.now()), true);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(String(warnings[0]?.error), /OOM/);
  // Without the growing probe delay (0.5 s, 1 s, 2 s) this would be six or more.
  assert.ok(warnings.length >= 2 && warnings.length <= 3, `${warnings.length} warnings in 3 s`);
  assert.ok(stats.fallback > 0);
});

test('the URL in log records carries no password', async (t) => {
  const link = new RedisLink({
    url: 'redis://:s3cret@127.0.0.1:1/0',
    commandTimeoutMs: 100,
    warn: () => {},
    info: () => {},
  });
  t.after(() => link.stop());
  assert.doesNotMatch(link.displayUrl, /s3cret/);
});
