import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  type Balancer,
  createBalancer,
  type Pickable,
  type PickContext,
} from '../../../src/upstream/balancers/index.js';
import { makeServers, NO_CONTEXT, sequence } from './fixtures.js';

const KEYS = 20_000;

/** Client addresses 10.x.y.z, one per key number. */
function clientAddress(k: number): string {
  return `10.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

/** The server index each of the KEYS client addresses maps to (-1 for none). */
function mapKeys(
  balancer: Balancer,
  servers: readonly Pickable[],
  tried: readonly Pickable[] | null = null,
): Int32Array {
  const mapping = new Int32Array(KEYS);
  const ctx: PickContext = { clientAddress: '', hashKey: '', tried };
  for (let k = 0; k < KEYS; k++) {
    ctx.clientAddress = clientAddress(k);
    mapping[k] = balancer.pick(servers, ctx)?.index ?? -1;
  }
  return mapping;
}

function countPerServer(mapping: Int32Array, servers: number): number[] {
  const counts = new Array<number>(servers).fill(0);
  for (const index of mapping) counts[index]! += 1;
  return counts;
}

for (const n of [3, 4, 9]) {
  test(`adding one server to ${n} moves about 1/${n + 1} of the keys, all of them to the new server`, (t) => {
    const before = makeServers(new Array<number>(n).fill(1));
    const after = makeServers(new Array<number>(n + 1).fill(1));
    const oldMapping = mapKeys(createBalancer('ip_hash', before), before);
    const newMapping = mapKeys(createBalancer('ip_hash', after), after);
    let moved = 0;
    for (let k = 0; k < KEYS; k++) {
      if (oldMapping[k] === newMapping[k]) continue;
      moved += 1;
      assert.equal(newMapping[k], n, `key ${clientAddress(k)} moved from ${oldMapping[k]} to ${newMapping[k]}`);
    }
    const fraction = moved / KEYS;
    const ideal = 1 / (n + 1);
    t.diagnostic(
      `n=${n}: moved ${moved}/${KEYS} = ${fraction.toFixed(4)} (ideal ${ideal.toFixed(4)}, ratio ${(fraction / ideal).toFixed(3)})`,
    );
    assert.ok(fraction >= 0.5 * ideal && fraction <= 1.6 * ideal, `moved fraction ${fraction}, ideal ${ideal}`);
  });
}

test('header_hash: adding a fifth server moves keys only to it, about 1/5 of them', (t) => {
  const before = makeServers([1, 1, 1, 1]);
  const after = makeServers([1, 1, 1, 1, 1]);
  const oldBalancer = createBalancer('header_hash', before);
  const newBalancer = createBalancer('header_hash', after);
  const ctx: PickContext = { ...NO_CONTEXT };
  let moved = 0;
  for (let k = 0; k < KEYS; k++) {
    ctx.hashKey = `tenant-${k}`;
    const from = oldBalancer.pick(before, ctx)!.index;
    const to = newBalancer.pick(after, ctx)!.index;
    if (from === to) continue;
    moved += 1;
    assert.equal(to, 4);
  }
  t.diagnostic(`header_hash n=4: moved fraction ${(moved / KEYS).toFixed(4)} (ideal 0.2000)`);
  assert.ok(moved / KEYS >= 0.1 && moved / KEYS <= 0.32, `moved fraction ${moved / KEYS}`);
});

test('marking a server unavailable moves only its keys, and they come back when it returns', () => {
  const servers = makeServers([1, 1, 1, 1, 1]);
  const balancer = createBalancer('ip_hash', servers);
  const healthy = mapKeys(balancer, servers);
  servers[2]!.available = false;
  const degraded = mapKeys(balancer, servers);
  let movedKeys = 0;
  for (let k = 0; k < KEYS; k++) {
    if (healthy[k] === 2) {
      movedKeys += 1;
      assert.notEqual(degraded[k], 2);
      assert.ok(degraded[k]! >= 0);
    } else {
      assert.equal(degraded[k], healthy[k], `key ${clientAddress(k)} moved although its server stayed up`);
    }
  }
  assert.ok(movedKeys > 0);
  servers[2]!.available = true;
  assert.deepEqual(mapKeys(balancer, servers), healthy);
});

test('a tried server is passed over exactly as an unavailable one would be', () => {
  const servers = makeServers([1, 1, 1, 1]);
  const balancer = createBalancer('ip_hash', servers);
  const viaTried = mapKeys(balancer, servers, [servers[1]!]);
  servers[1]!.available = false;
  assert.deepEqual(viaTried, mapKeys(balancer, servers));
  assert.ok(!viaTried.includes(1));
});

test('removing a server from the ring moves only its keys', () => {
  const all = makeServers([1, 1, 1, 1, 1, 1]);
  const withAll = mapKeys(createBalancer('ip_hash', all), all);
  // The same servers without the fourth one (same keys, same indexes).
  const rest = all.filter((server) => server.index !== 3);
  const withoutOne = mapKeys(createBalancer('ip_hash', rest), rest);
  for (let k = 0; k < KEYS; k++) {
    if (withAll[k] !== 3) assert.equal(withoutOne[k], withAll[k]);
    else assert.notEqual(withoutOne[k], 3);
  }
});

test('the ring does not depend on the order the servers are listed in', () => {
  const servers = makeServers([1, 2, 1, 3]);
  const reversed = [...servers].reverse();
  assert.deepEqual(
    mapKeys(createBalancer('ip_hash', reversed), reversed),
    mapKeys(createBalancer('ip_hash', servers), servers),
  );
});

for (const weights of [
  [1, 1, 1, 1],
  [1, 2, 3],
  [5, 1, 1, 2, 1],
]) {
  test(`keys spread by weight share (weights ${weights.join(',')})`, (t) => {
    const servers = makeServers(weights);
    const counts = countPerServer(mapKeys(createBalancer('ip_hash', servers), servers), weights.length);
    const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
    const ratios = counts.map((count, i) => count / ((KEYS * weights[i]!) / totalWeight));
    t.diagnostic(`load / weight share: ${ratios.map((ratio) => ratio.toFixed(3)).join(' ')}`);
    for (const ratio of ratios) assert.ok(ratio > 0.8 && ratio < 1.2, `ratios ${ratios}`);
  });
}

test('an empty header value, or an empty client address, falls back to smooth weighted round robin', () => {
  const servers = makeServers([5, 1, 1]);
  assert.equal(
    sequence(createBalancer('header_hash', servers), servers, 14, { ...NO_CONTEXT, clientAddress: '10.1.1.1' }),
    'aabacaa'.repeat(2),
  );
  assert.equal(
    sequence(createBalancer('ip_hash', servers), servers, 7, { ...NO_CONTEXT, hashKey: 'tenant-1' }),
    'aabacaa',
  );
});

test('the same key keeps its server across picks', () => {
  const servers = makeServers([1, 1, 1, 1]);
  const balancer = createBalancer('header_hash', servers);
  const ctx: PickContext = { ...NO_CONTEXT, hashKey: 'user-42' };
  const first = balancer.pick(servers, ctx);
  for (let i = 0; i < 50; i++) assert.equal(balancer.pick(servers, ctx), first);
});

test('a tier is hashed on its own servers: backups only, and servers absent from the ring fall back', () => {
  const servers = makeServers([1, 1, 1, 1]);
  const balancer = createBalancer('ip_hash', servers);
  const backups = [servers[2]!, servers[3]!];
  const mapping = mapKeys(balancer, backups);
  const counts = countPerServer(mapping, 4);
  assert.equal(counts[0]! + counts[1]!, 0);
  assert.ok(counts[2]! > 0 && counts[3]! > 0);
  // A balancer built from the primaries only, asked about the backups, still serves them (round robin).
  const primariesOnly = createBalancer('ip_hash', [servers[0]!, servers[1]!]);
  assert.equal(sequence(primariesOnly, backups, 4, { ...NO_CONTEXT, clientAddress: '10.0.0.9' }), 'cdcd');
});

test('undefined when no server of the tier qualifies', () => {
  const servers = makeServers([1, 1, 1]);
  const balancer = createBalancer('ip_hash', servers);
  const ctx: PickContext = { ...NO_CONTEXT, clientAddress: '10.9.9.9', tried: [servers[0]!] };
  servers[1]!.available = false;
  servers[2]!.available = false;
  assert.equal(balancer.pick(servers, ctx), undefined);
  assert.equal(balancer.pick([], ctx), undefined);
});
