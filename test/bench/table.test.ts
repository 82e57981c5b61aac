import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  COLUMNS,
  formatLatency,
  formatMarkdown,
  formatText,
  median,
  type RunMeasurement,
  ratio,
  scenarioNotes,
  scenarioRows,
  summarise,
  type TargetOutcome,
} from '../../bench/lib/table.js';

function run(overrides: Partial<RunMeasurement>): RunMeasurement {
  return {
    requestsPerSec: 1000,
    p50Us: 500,
    p99Us: 2000,
    requests: 5000,
    errors: 0,
    cpuUsPerRequest: 10,
    rssBytes: 10 * 1024 * 1024,
    newUpstreamConnections: 0,
    openUpstreamConnections: 64,
    ...overrides,
  };
}

test('median of odd and even counts, ignoring undefined', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([undefined, 7, undefined]), 7);
  assert.equal(median([]), undefined);
  assert.equal(median([undefined]), undefined);
});

test('ratio is undefined without a usable reference', () => {
  assert.equal(ratio(5, 10), 0.5);
  assert.equal(ratio(5, undefined), undefined);
  assert.equal(ratio(undefined, 10), undefined);
  assert.equal(ratio(5, 0), undefined);
});

test('summarise takes medians per column and sums errors', () => {
  const outcome: TargetOutcome = {
    name: 'undici',
    label: 'undici Pool.stream',
    problem: undefined,
    runs: [
      run({ requestsPerSec: 900, p99Us: 3000, errors: 1 }),
      run({ requestsPerSec: 1100, p99Us: 1000, errors: 0 }),
      run({ requestsPerSec: 1000, p99Us: 9000, errors: 2 }),
    ],
  };
  const s = summarise(outcome);
  assert.equal(s.runs, 3);
  assert.equal(s.requestsPerSec, 1000);
  assert.equal(s.p99Us, 3000);
  assert.equal(s.errors, 3);
});

test('rows carry ratios to nginx, and notes for targets that did not run', () => {
  const nginx = summarise({ name: 'nginx', label: 'nginx', problem: undefined, runs: [run({})] });
  const peer = summarise({
    name: 'undici',
    label: 'undici',
    problem: undefined,
    runs: [run({ requestsPerSec: 250, p99Us: 8000, cpuUsPerRequest: 35 })],
  });
  const direct = summarise({
    name: 'direct',
    label: 'direct',
    problem: undefined,
    runs: [run({ cpuUsPerRequest: undefined, rssBytes: undefined, newUpstreamConnections: undefined })],
  });
  const missing = summarise({ name: 'gatewise', label: 'gatewise', problem: 'not built', runs: [] });
  const rows = scenarioRows([direct, nginx, peer, missing]);
  assert.deepEqual(rows[2], {
    cells: ['undici', '250', '0.25', '500 µs', '8.00 ms', '4.00', '35.0', '3.50', '10.0', '0', '64', '0'],
  });
  assert.deepEqual(rows[1], {
    cells: ['nginx', '1000', '1.00', '500 µs', '2.00 ms', '1.00', '10.0', '1.00', '10.0', '0', '64', '0'],
  });
  const directCells = 'cells' in rows[0]! ? rows[0].cells : [];
  assert.equal(directCells[6], '–');
  assert.equal(directCells[7], '–');
  assert.deepEqual(rows[3], { label: 'gatewise', note: 'not built' });
});

test('without an nginx row the ratio columns stay empty', () => {
  const rows = scenarioRows([summarise({ name: 'undici', label: 'undici', problem: undefined, runs: [run({})] })]);
  const cells = 'cells' in rows[0]! ? rows[0].cells : [];
  assert.equal(cells[2], '–');
  assert.equal(cells[5], '–');
  assert.equal(cells[7], '–');
});

test('a run where nothing completed counts as 0 req/s without latencies', () => {
  const s = summarise({
    name: 'http-proxy',
    label: 'http-proxy',
    problem: 'run 1: no request completed in 5 s',
    runs: [run({ requestsPerSec: 0, requests: 0, p50Us: undefined, p99Us: undefined, cpuUsPerRequest: undefined })],
  });
  const row = scenarioRows([s])[0]!;
  const cells = 'cells' in row ? row.cells : [];
  assert.equal(cells[1], '0');
  assert.equal(cells[3], '–');
  assert.equal(cells[4], '–');
  assert.deepEqual(scenarioNotes([s]), ['http-proxy: run 1: no request completed in 5 s']);
});

test('a problem after some runs becomes a note under the table', () => {
  const s = summarise({ name: 'undici', label: 'undici', problem: 'exited (SIGSEGV)', runs: [run({})] });
  assert.deepEqual(scenarioNotes([s]), ['undici: exited (SIGSEGV)']);
  assert.deepEqual(scenarioNotes([summarise({ name: 'g', label: 'g', problem: 'not built', runs: [] })]), []);
});

test('latencies switch unit with size', () => {
  assert.equal(formatLatency(840), '840 µs');
  assert.equal(formatLatency(1420), '1.42 ms');
  assert.equal(formatLatency(242_400), '242 ms');
  assert.equal(formatLatency(undefined), '–');
});

test('text table aligns labels left and figures right', () => {
  const text = formatText(
    ['target', 'req/s'],
    [{ cells: ['nginx', '54375'] }, { cells: ['µ-proxy', '7'] }, { label: 'gatewise', note: 'not built' }],
  );
  assert.equal(
    text,
    ['target    req/s', '--------  -----', 'nginx     54375', 'µ-proxy       7', 'gatewise  not built'].join('\n'),
  );
});

test('markdown table is padded as the formatter writes it, with pipes escaped', () => {
  const md = formatMarkdown(
    ['target', 'req/s ×nginx', 'p50', 'CPU µs/req'],
    [
      { cells: ['nginx (access_log off)', '1.00', '840 µs', '9.3'] },
      { label: 'gatewise', note: 'not built' },
      { cells: ['a|b', '2', '3', '4'] },
    ],
  );
  assert.equal(
    md,
    [
      '| target                 | req/s ×nginx |    p50 | CPU µs/req |',
      '| ---------------------- | -----------: | -----: | ---------: |',
      '| nginx (access_log off) |         1.00 | 840 µs |        9.3 |',
      '| gatewise               |    not built |      – |          – |',
      '| a\\|b                   |            2 |      3 |          4 |',
    ].join('\n'),
  );
});

test('markdown table has one cell per column of COLUMNS', () => {
  const md = formatMarkdown(COLUMNS, [{ label: 'x', note: 'not built' }]);
  const lines = md.split('\n');
  assert.equal(lines.length, 3);
  for (const line of lines) assert.equal(line.split(' | ').length, COLUMNS.length);
});
