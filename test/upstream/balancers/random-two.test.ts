import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createBalancer } from '../../../src/upstream/balancers/index.js';
import { makeServers, NO_CONTEXT, sequence, tally } from './fixtures.js';

test('never picks an unavailable or tried server', () => {
  const servers = makeServers([1, 2, 3, 1, 2]);
  const balancer = createBalancer('random_two', servers, { seed: 1 });
  servers[1]!.available = false;
  servers[2]!.available = false;
  const counts = tally(balancer, servers, 3000, { ...NO_CONTEXT, tried: [servers[3]!] });
  assert.equal(counts[1], 0);
  assert.equal(counts[2], 0);
  assert.equal(counts[3], 0);
  assert.equal(counts[0]! + counts[4]!, 3000);
  assert.ok(counts[0]! > 0 && counts[4]! > 0, `both remaining servers used: ${counts}`);
});

test('finds the one qualifying server among many that do not, and undefined when none does', () => {
  const servers = makeServers(new Array<number>(40).fill(1));
  const balancer = createBalancer('random_two', servers, { seed: 2 });
  for (const server of servers) server.available = false;
  servers[17]!.available = true;
  for (let i = 0; i < 200; i++) assert.equal(balancer.pick(servers, NO_CONTEXT), servers[17]);
  servers[17]!.available = false;
  assert.equal(balancer.pick(servers, NO_CONTEXT), undefined);
  assert.equal(balancer.pick([], NO_CONTEXT), undefined);
});

test('the most loaded server is never picked while two others qualify; the least loaded wins about 2/3', () => {
  const servers = makeServers([1, 1, 1]);
  const balancer = createBalancer('random_two', servers, { seed: 3 });
  servers[0]!.inflight = 0;
  servers[1]!.inflight = 5;
  servers[2]!.inflight = 10;
  const picks = 6000;
  const counts = tally(balancer, servers, picks);
  assert.equal(counts[2], 0);
  // The least loaded loses only when the pair drawn is {b, c}: probability 1/3.
  const share = counts[0]! / picks;
  assert.ok(share > 0.6 && share < 0.73, `least loaded share ${share}`);
});

test('load is compared per unit of weight', () => {
  const servers = makeServers([1, 3]);
  const balancer = createBalancer('random_two', servers, { seed: 4 });
  servers[0]!.inflight = 1; // 1 per weight
  servers[1]!.inflight = 2; // 0.67 per weight
  assert.deepEqual(tally(balancer, servers, 500), [0, 500]);
});

test('with equal load the picks follow the weights', () => {
  const weights = [1, 2, 3, 4];
  const servers = makeServers(weights);
  const picks = 20_000;
  const counts = tally(createBalancer('random_two', servers, { seed: 5 }), servers, picks);
  for (let i = 0; i < weights.length; i++) {
    const expected = (picks * weights[i]!) / 10;
    assert.ok(Math.abs(counts[i]! - expected) < expected * 0.08, `server ${i}: ${counts[i]} vs ${expected}`);
  }
});

test('with load that follows the picks, no server runs far ahead of the others', () => {
  const servers = makeServers(new Array<number>(8).fill(1));
  const balancer = createBalancer('random_two', servers, { seed: 6 });
  for (let i = 0; i < 800; i++) balancer.pick(servers, NO_CONTEXT)!.inflight += 1;
  const loads = servers.map((server) => server.inflight);
  // One random choice would spread 100 ± 10 per server; two choices keep the gap to a few requests.
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 6, `loads ${loads}`);
});

test('a seed reproduces the sequence; another seed gives another', () => {
  const servers = makeServers([1, 1, 1, 1, 1]);
  const one = sequence(createBalancer('random_two', servers, { seed: 7 }), servers, 60);
  assert.equal(sequence(createBalancer('random_two', servers, { seed: 7 }), servers, 60), one);
  assert.notEqual(sequence(createBalancer('random_two', servers, { seed: 8 }), servers, 60), one);
});

test('primaries and backups tiers alternate on one balancer without mixing', () => {
  const servers = makeServers([1, 1, 1, 1]);
  const balancer = createBalancer('random_two', servers, { seed: 9 });
  const primaries = [servers[0]!, servers[1]!];
  const backups = [servers[2]!, servers[3]!];
  for (let i = 0; i < 200; i++) {
    assert.ok(primaries.includes(balancer.pick(primaries, NO_CONTEXT)!));
    assert.ok(backups.includes(balancer.pick(backups, NO_CONTEXT)!));
  }
});
