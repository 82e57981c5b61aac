/**
 * The short drill suite, as `gatewise drill --short` runs it: real sandboxes (Gatewise, managed
 * backends, the fault proxy), real faults, and every expectation of each scenario must hold. Then the
 * reports: the summary table, the HTML page (self-contained, one timeline per scenario) and the CLI.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDrills } from '../../src/drill/drill.js';
import { renderHtml, renderSummary } from '../../src/drill/report.js';
import type { ScenarioResult } from '../../src/drill/runner.js';
import { pickScenarios, SCENARIOS } from '../../src/drill/scenarios.js';
import { runCli } from '../support/cli.js';

test('the short drill suite passes: failover, classification, detection, alerts and recovery', async () => {
  const scenarios = pickScenarios([], true);
  assert.deepEqual(
    scenarios.map((s) => s.name),
    ['backend_down', 'slow_backend', 'crash_or_oom'],
  );
  const results = await runDrills({ scenarios });
  const failed = results.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.name}: ${c.name}: ${c.detail}`));
  assert.deepEqual(failed, []);
  const byName = new Map(results.map((r) => [r.name, r]));
  const down = byName.get('backend_down')!;
  assert.equal(down.clientErrors, 0);
  assert.ok(down.requests > 100, `steady load: ${down.requests} requests`);
  assert.ok((down.failures['connection_refused/backend_down'] ?? 0) > 0);
  assert.ok(down.detectMs !== null && down.alertFiredMs !== null && down.recoverMs !== null);
  assert.ok((byName.get('slow_backend')!.failures['connection_read_timeout/slow_backend'] ?? 0) > 0);
  const crash = byName.get('crash_or_oom')!;
  assert.ok(crash.checks.some((c) => c.name.startsWith('the exit is classified crash_or_oom') && c.ok));
  // Every timeline holds the load and the marks of the fault.
  for (const r of results) {
    assert.ok(r.timeline.buckets.reduce((n, b) => n + b.ok + b.errors, 0) === r.requests, r.name);
    assert.ok(r.timeline.marks.some((m) => m.kind === 'fault'));
  }
  const text = renderSummary(results, false);
  assert.match(text, /^scenario +result +requests +client errors +detect +alert +recover\n/);
  assert.match(text, /\nbackend_down +PASS +\d+ +0 /);
  assert.match(text, /all 3 drills passed/);
});

function fakeResult(overrides: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: 'backend_down',
    cause: 'backend_down',
    title: 'one replica <stops>',
    passed: true,
    checks: [{ name: 'no client-visible error', ok: true, detail: '0 of 10 requests failed' }],
    requests: 10,
    clientErrors: 0,
    detectMs: 80,
    alertFiredMs: 400,
    alertResolvedMs: 500,
    recoverMs: 450,
    failures: { 'connection_refused/backend_down': 2 },
    notes: [],
    timeline: {
      bucketMs: 250,
      durationMs: 1000,
      buckets: [
        { t: 0, ok: 5, errors: 0, byCause: {} },
        { t: 250, ok: 3, errors: 2, byCause: { backend_down: 2 } },
      ],
      marks: [
        { t: 200, kind: 'fault', label: 'fault injected' },
        { t: 300, kind: 'detect', label: 'detected' },
      ],
    },
    ...overrides,
  };
}

test('a failed expectation is named in the summary; the HTML report is self-contained and escapes', () => {
  const failed = fakeResult({
    name: 'slow_backend',
    passed: false,
    checks: [{ name: 'no client-visible error', ok: false, detail: '3 of 10 requests failed' }],
  });
  const text = renderSummary([fakeResult({}), failed], false);
  assert.match(text, /\nslow_backend +FAIL /);
  assert.match(text, /slow_backend: no client-visible error: 3 of 10 requests failed/);
  assert.match(text, /1 of 2 drills failed/);
  const html = renderHtml([fakeResult({}), failed], new Date('2026-01-01T00:00:00Z'));
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3)/, 'no script, no external asset');
  assert.match(html, /one replica &lt;stops&gt;/);
  assert.equal((html.match(/<svg /g) ?? []).length, 2, 'one timeline per scenario');
  assert.match(html, /<title>backend_down: 2 failed tries<\/title>/);
  assert.match(html, /fault injected/);
});

test('`gatewise drill` lists its scenarios, refuses unknown ones, and writes JSON and HTML', async (t) => {
  const list = await runCli(['drill', '--list']);
  assert.equal(list.code, 0);
  for (const s of SCENARIOS) assert.match(list.stdout, new RegExp(`^${s.name} `, 'm'));
  const unknown = await runCli(['drill', '--scenario', 'backend_dwn']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown scenario backend_dwn/);

  const dir = mkdtempSync(join(tmpdir(), 'gatewise-drill-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const html = join(dir, 'report.html');
  const run = await runCli(['drill', '--scenario', 'backend_down', '--json', '--html', html], 60_000);
  assert.equal(run.code, 0, run.stderr);
  const [result] = JSON.parse(run.stdout) as ScenarioResult[];
  assert.equal(result?.name, 'backend_down');
  assert.equal(result?.passed, true);
  assert.match(readFileSync(html, 'utf8'), /Gatewise drill report/);
  assert.match(run.stderr, /\[1\/1\] backend_down/);
});
