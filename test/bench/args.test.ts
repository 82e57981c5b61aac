import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { type BenchOptions, parseBenchArgs, TARGET_NAMES } from '../../bench/lib/args.js';
import { CliError } from '../../src/errors.js';

function options(argv: string[]): BenchOptions {
  const parsed = parseBenchArgs(argv, '/r/RESULTS.md');
  assert.equal(parsed.help, false);
  return (parsed as { options: BenchOptions }).options;
}

test('defaults: 3 runs of 5 s after 1 s of warm-up, every scenario and target', () => {
  const o = options([]);
  assert.equal(o.runs, 3);
  assert.equal(o.durationSec, 5);
  assert.equal(o.warmupSec, 1);
  assert.deepEqual(
    o.scenarios.map((s) => s.name),
    ['small64', 'small256', 'big'],
  );
  assert.deepEqual(o.targets, [...TARGET_NAMES]);
  assert.equal(o.resultsPath, '/r/RESULTS.md');
});

test('--quick is one run of 3 s, and explicit values win over it', () => {
  const quick = options(['--quick']);
  assert.equal(quick.runs, 1);
  assert.equal(quick.durationSec, 3);
  const mixed = options(['--quick', '--duration', '2', '--runs', '2']);
  assert.equal(mixed.runs, 2);
  assert.equal(mixed.durationSec, 2);
});

test('--only and --scenarios keep table order', () => {
  const o = options(['--only', 'http-proxy, nginx', '--scenarios', 'big,small64']);
  assert.deepEqual(o.targets, ['nginx', 'http-proxy']);
  assert.deepEqual(
    o.scenarios.map((s) => s.name),
    ['small64', 'big'],
  );
});

test('--no-results and --results', () => {
  assert.equal(options(['--no-results']).resultsPath, null);
  assert.equal(options(['--results', '/tmp/x.md']).resultsPath, '/tmp/x.md');
});

test('bad input is a CliError with exit code 2', () => {
  const isUsage = (err: unknown) => err instanceof CliError && err.exitCode === 2;
  assert.throws(() => parseBenchArgs(['--only', 'nginx,apache'], ''), isUsage);
  assert.throws(() => parseBenchArgs(['--only', 'nginx,apache'], ''), /unknown apache/);
  assert.throws(() => parseBenchArgs(['--scenarios', ''], ''), isUsage);
  assert.throws(() => parseBenchArgs(['--runs', '1.5'], ''), isUsage);
  assert.throws(() => parseBenchArgs(['--duration', '0'], ''), isUsage);
  assert.throws(() => parseBenchArgs(['--frobnicate'], ''), isUsage);
  assert.throws(() => parseBenchArgs(['extra'], ''), isUsage);
});

test('--cpu-prof never writes the report', () => {
  const o = options(['--cpu-prof']);
  assert.equal(o.cpuProf, true);
  assert.equal(o.resultsPath, null);
  assert.equal(options([]).cpuProf, false);
});

test('--help', () => {
  assert.deepEqual(parseBenchArgs(['--help'], ''), { help: true });
});
