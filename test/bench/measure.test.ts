import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { TARGET_NAMES } from '../../bench/lib/args.js';
import { rotate } from '../../bench/lib/measure.js';
import { nodeFlags, TARGETS } from '../../bench/lib/targets.js';

test('rotation puts every target first once per cycle', () => {
  const items = ['a', 'b', 'c'];
  assert.deepEqual(rotate(items, 0), ['a', 'b', 'c']);
  assert.deepEqual(rotate(items, 1), ['b', 'c', 'a']);
  assert.deepEqual(rotate(items, 2), ['c', 'a', 'b']);
  assert.deepEqual(rotate(items, 3), ['a', 'b', 'c']);
  assert.deepEqual(rotate([], 2), []);
});

test('every target name has exactly one definition, in table order', () => {
  assert.deepEqual(
    TARGETS.map((t) => t.name),
    [...TARGET_NAMES],
  );
});

test('gatewise is reported as not built when its CLI is missing', () => {
  const gatewise = TARGETS.find((t) => t.name === 'gatewise')!;
  const env = {
    dir: '/nonexistent',
    repoRoot: '/nonexistent',
    backendPort: 1,
    scenarioName: 'small64',
    connections: 64,
    cpuProfDir: null,
    group: undefined as never,
    runAsRoot: false,
  };
  assert.equal(gatewise.unavailable?.(env), 'not built');
});

test('profiling adds one named CPU profile per target and scenario', () => {
  const env = {
    dir: '/d',
    repoRoot: '/r',
    backendPort: 1,
    scenarioName: 'big',
    connections: 64,
    cpuProfDir: null as string | null,
    group: undefined as never,
    runAsRoot: false,
  };
  assert.deepEqual(nodeFlags(env, 'gatewise'), []);
  env.cpuProfDir = '/r/bench/out';
  assert.deepEqual(nodeFlags(env, 'gatewise'), [
    '--cpu-prof',
    '--cpu-prof-dir=/r/bench/out',
    '--cpu-prof-name=gatewise-big.cpuprofile',
  ]);
});
