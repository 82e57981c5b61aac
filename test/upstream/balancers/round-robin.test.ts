import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createBalancer } from '../../../src/upstream/balancers/index.js';
import { makeServers, NO_CONTEXT, sequence, tally } from './fixtures.js';

test('weights 5,1,1 give the smooth sequence a a b a c a a, and it repeats', () => {
  const servers = makeServers([5, 1, 1]);
  const balancer = createBalancer('round_robin', servers);
  assert.equal(sequence(balancer, servers, 21), 'aabacaa'.repeat(3));
});

test('equal weights rotate in order', () => {
  const servers = makeServers([1, 1, 1]);
  assert.equal(sequence(createBalancer('round_robin', servers), servers, 9), 'abcabcabc');
});

test('picks are proportional to the weights over many picks', () => {
  const weights = [3, 1, 2, 4];
  const servers = makeServers(weights);
  const counts = tally(createBalancer('round_robin', servers), servers, 10_000);
  // Smooth WRR is exact over every full cycle of 10 picks.
  assert.deepEqual(counts, [3000, 1000, 2000, 4000]);
});

test('no server gets two turns in a row when the weights do not force it', () => {
  const servers = makeServers([2, 2, 1]);
  const picks = sequence(createBalancer('round_robin', servers), servers, 50);
  for (let i = 1; i < picks.length; i++) assert.notEqual(picks[i], picks[i - 1], `run at ${i}: ${picks}`);
});

test('an unavailable server is skipped and the others keep their smooth rhythm', () => {
  const servers = makeServers([5, 1, 1, 2]);
  const balancer = createBalancer('round_robin', servers);
  servers[3]!.available = false;
  assert.equal(sequence(balancer, servers, 14), 'aabacaa'.repeat(2));
  servers[3]!.available = true;
  const counts = tally(balancer, servers, 900);
  assert.deepEqual(counts, [500, 100, 100, 200]);
});

test('servers in ctx.tried are not picked while another qualifies', () => {
  const servers = makeServers([1, 1, 1]);
  const balancer = createBalancer('round_robin', servers);
  const ctx = { ...NO_CONTEXT, tried: [servers[0]!, servers[2]!] };
  for (let i = 0; i < 5; i++) assert.equal(balancer.pick(servers, ctx), servers[1]);
});

test('undefined when nothing qualifies: all unavailable, all tried, or an empty tier', () => {
  const servers = makeServers([1, 2]);
  const balancer = createBalancer('round_robin', servers);
  assert.equal(balancer.pick(servers, { ...NO_CONTEXT, tried: servers }), undefined);
  for (const server of servers) server.available = false;
  assert.equal(balancer.pick(servers, NO_CONTEXT), undefined);
  assert.equal(balancer.pick([], NO_CONTEXT), undefined);
});

test('a tier is balanced on its own: backups picked from the backups only', () => {
  const servers = makeServers([1, 1, 3, 1]);
  const balancer = createBalancer('round_robin', servers);
  const backups = [servers[2]!, servers[3]!];
  assert.equal(sequence(balancer, backups, 8), 'ccdcccdc');
});
