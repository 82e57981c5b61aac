/**
 * The corpus: log lines written from what nginx, ingress-nginx, Envoy/Istio, HAProxy, Traefik, Caddy,
 * AWS ALB, Node.js and Gatewise really print, each with the source, error type and first cause explain
 * must give. The corpus must cover every root cause and every format.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { explainLine, SOURCES } from '../../../src/diagnose/explain/index.js';
import { ERROR_TYPES, isErrorType, ROOT_CAUSES } from '../../../src/diagnose/index.js';

interface Row {
  source: string;
  error: string | null;
  cause: string;
  line: string;
  note?: string;
}

// Read from the source tree: dist/test/diagnose/explain/ -> the repository root.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const rows: Row[] = readFileSync(`${root}test/fixtures/explain/corpus.jsonl`, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Row);

test('the corpus holds at least 100 lines', () => {
  assert.ok(rows.length >= 100, `only ${rows.length} lines`);
});

test('every root cause but "other" is the first cause of at least one corpus line', () => {
  const covered = new Set(rows.map((r) => r.cause));
  const missing = Object.keys(ROOT_CAUSES).filter((cause) => cause !== 'other' && !covered.has(cause));
  assert.deepEqual(missing, []);
});

test('every format has corpus lines, failures among them', () => {
  for (const source of SOURCES) {
    const lines = rows.filter((r) => r.source === source);
    assert.ok(lines.length > 0, `no line for ${source}`);
    if (source !== 'unknown')
      assert.ok(
        lines.some((r) => r.error !== null),
        `no failure line for ${source}`,
      );
  }
});

test('the expectations name real error types and causes', () => {
  for (const row of rows) {
    if (row.error !== null) assert.ok(isErrorType(row.error), `${row.error} is no error type`);
    assert.ok(Object.hasOwn(ROOT_CAUSES, row.cause), `${row.cause} is no root cause`);
  }
});

for (const [index, row] of rows.entries()) {
  test(`corpus line ${index + 1}: ${row.source} ${row.error ?? 'not a failure'} ${row.cause}${row.note ? ` (${row.note})` : ''}`, () => {
    const e = explainLine(row.line);
    assert.equal(e.source, row.source, row.line);
    assert.equal(e.error, row.error, row.line);
    assert.equal(e.causes[0]?.cause, row.cause, row.line);
    // The shape every caller relies on.
    assert.equal(e.line, row.line);
    assert.ok(e.causes.length >= 1);
    assert.equal(new Set(e.causes.map((c) => c.cause)).size, e.causes.length, 'each cause once');
    for (const c of e.causes) assert.ok(Object.hasOwn(ROOT_CAUSES, c.cause) && c.why.length > 0);
    assert.ok(e.summary.length > 0);
    assert.ok(['high', 'medium', 'low'].includes(e.confidence));
    if (e.error !== null) {
      assert.ok(Object.hasOwn(ERROR_TYPES, e.error));
      assert.ok(e.checks.length > 0, 'a failure comes with checks');
    }
    if (e.time !== undefined) assert.ok(!Number.isNaN(new Date(e.time).getTime()), `time ${e.time}`);
    if (e.source === 'unknown') assert.equal(e.confidence, 'low');
  });
}
