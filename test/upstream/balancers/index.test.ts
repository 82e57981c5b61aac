import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  BALANCER_NAMES,
  BALANCERS,
  BalancerError,
  type BalancerName,
  createBalancer,
} from '../../../src/upstream/balancers/index.js';
import { makeServers, NO_CONTEXT } from './fixtures.js';

test('every policy name has a row in the registry and no row lacks a name', () => {
  assert.deepEqual(Object.keys(BALANCERS).sort(), [...BALANCER_NAMES].sort());
  assert.deepEqual([...BALANCER_NAMES].sort(), ['header_hash', 'ip_hash', 'least_conn', 'random_two', 'round_robin']);
});

for (const name of BALANCER_NAMES) {
  test(`${name}: created by name, picks only qualifying servers, undefined when none`, () => {
    const servers = makeServers([1, 2, 1]);
    const balancer = createBalancer(name, servers, { seed: 11 });
    const ctx = { ...NO_CONTEXT, clientAddress: '10.0.0.7', hashKey: 'k', tried: [servers[0]!] };
    servers[1]!.available = false;
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(servers, ctx), servers[2]);
    servers[2]!.available = false;
    assert.equal(balancer.pick(servers, ctx), undefined);
    assert.equal(typeof BALANCERS[name](servers).pick, 'function');
  });
}

test('an unknown name is a BalancerError with a stable code', () => {
  assert.throws(
    () => createBalancer('fastest' as BalancerName, makeServers([1])),
    (error: unknown) =>
      error instanceof BalancerError && error.code === 'GW_BALANCER_UNKNOWN' && /fastest/.test(error.message),
  );
  assert.throws(() => createBalancer('toString' as BalancerName, makeServers([1])), BalancerError);
});

test('servers a policy cannot balance are rejected at creation', () => {
  for (const server of [
    { index: 0, key: 'a', weight: 0, inflight: 0, available: true },
    { index: 0, key: 'a', weight: 1.5, inflight: 0, available: true },
    { index: -1, key: 'a', weight: 1, inflight: 0, available: true },
  ]) {
    assert.throws(
      () => createBalancer('round_robin', [server]),
      (error: unknown) => error instanceof BalancerError && error.code === 'GW_BALANCER_SERVER',
    );
  }
  const twice = makeServers([1, 1]).map((server) => ({ ...server, index: 0 }));
  assert.throws(() => createBalancer('ip_hash', twice), BalancerError);
});
