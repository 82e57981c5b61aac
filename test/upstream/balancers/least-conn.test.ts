import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createBalancer } from '../../../src/upstream/balancers/index.js';
import { makeServers, NO_CONTEXT, sequence, tally } from './fixtures.js';

test('prefers the server with the fewest requests in flight', () => {
  const servers = makeServers([1, 1, 1]);
  const balancer = createBalancer('least_conn', servers);
  servers[0]!.inflight = 4;
  servers[1]!.inflight = 1;
  servers[2]!.inflight = 3;
  assert.equal(balancer.pick(servers, NO_CONTEXT), servers[1]);
});

test('compares inflight per unit of weight', () => {
  const servers = makeServers([1, 4]);
  const balancer = createBalancer('least_conn', servers);
  servers[0]!.inflight = 2; // 2 per weight
  servers[1]!.inflight = 6; // 1.5 per weight
  assert.equal(balancer.pick(servers, NO_CONTEXT), servers[1]);
  servers[1]!.inflight = 9; // 2.25 per weight
  assert.equal(balancer.pick(servers, NO_CONTEXT), servers[0]);
});

test('ties rotate instead of always going to the first', () => {
  const servers = makeServers([1, 1, 1]);
  assert.equal(sequence(createBalancer('least_conn', servers), servers, 9), 'abcabcabc');
});

test('ties rotate by weight (smooth), and only among the tied', () => {
  const servers = makeServers([2, 1, 1, 1]);
  const balancer = createBalancer('least_conn', servers);
  servers[3]!.inflight = 5;
  assert.equal(sequence(balancer, servers, 8), 'abcaabca');
  assert.deepEqual(tally(balancer, servers, 400), [200, 100, 100, 0]);
});

test('with load that follows the picks, the servers fill evenly per weight', () => {
  const servers = makeServers([1, 2, 3]);
  const balancer = createBalancer('least_conn', servers);
  for (let i = 0; i < 60; i++) balancer.pick(servers, NO_CONTEXT)!.inflight += 1;
  assert.deepEqual(
    servers.map((server) => server.inflight),
    [10, 20, 30],
  );
});

test('skips unavailable and tried servers even when they are the least loaded', () => {
  const servers = makeServers([1, 1, 1]);
  const balancer = createBalancer('least_conn', servers);
  servers[1]!.inflight = 7;
  servers[2]!.inflight = 9;
  servers[0]!.available = false;
  assert.equal(balancer.pick(servers, NO_CONTEXT), servers[1]);
  assert.equal(balancer.pick(servers, { ...NO_CONTEXT, tried: [servers[1]!] }), servers[2]);
  assert.equal(balancer.pick(servers, { ...NO_CONTEXT, tried: [servers[1]!, servers[2]!] }), undefined);
});
