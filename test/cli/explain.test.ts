/**
 * `gatewise explain` as a user runs it: the real binary, lines as arguments or on stdin, text or
 * NDJSON, and --error-log for a whole log.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderExplanation } from '../../src/cli/explain.js';
import { type Explanation, explainLine } from '../../src/diagnose/explain/index.js';
import { type CliResult, runCli } from '../support/cli.js';

const REFUSED =
  '2024/03/14 09:21:00 [error] 2311#2311: *101 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: api, request: "GET /v1/orders HTTP/1.1", upstream: "http://10.0.0.5:5000/v1/orders", host: "api"';
const TIMEOUT =
  '2024/03/14 09:22:00 [error] 2311#2311: *102 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: api, request: "GET /slow HTTP/1.1", upstream: "http://10.0.0.6:5000/slow", host: "api"';
const ENVOY = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

/** Runs the binary with `input` on stdin (NO_COLOR unset: stdout is a pipe, so no colour either way). */
function runWithStdin(args: string[], input: string, timeoutMs = 20000): Promise<CliResult> {
  const env = { ...process.env };
  delete env.NO_COLOR;
  return runCli(args, timeoutMs, { input, env });
}

test('explain LINE prints the error, the ranked causes and the checks with commands', async () => {
  const r = await runCli(['explain', REFUSED]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^connection_refused {2}\[nginx_error, high confidence\]/);
  assert.match(r.stdout, /connection to 10\.0\.0\.5:5000 refused \(502\)/);
  assert.match(r.stdout, /1\. backend_down: /);
  assert.match(r.stdout, /2\. wrong_upstream_address: /);
  assert.ok(r.stdout.includes("$ ss -ltnp 'sport = :5000'"), r.stdout);
  assert.ok(!r.stdout.includes('\u001b['), 'no colour on a pipe');
});

test('several LINE arguments are explained in order', async () => {
  const r = await runCli(['explain', REFUSED, TIMEOUT, 'not a log line']);
  assert.equal(r.code, 0, r.stderr);
  const heads = r.stdout.split('\n').filter((l) => /^\S/.test(l));
  assert.deepEqual(
    heads.map((h) => h.split('  ')[0]),
    ['connection_refused', 'connection_read_timeout', 'not a failure'],
  );
  assert.match(r.stdout, /line not recognised/);
});

test('--json prints one explanation object per line', async () => {
  const r = await runCli(['explain', '--json', REFUSED, ENVOY]);
  assert.equal(r.code, 0, r.stderr);
  const objects = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Explanation);
  assert.equal(objects.length, 2);
  assert.deepEqual(objects[0], explainLine(REFUSED));
  assert.equal(objects[1]!.source, 'envoy');
  assert.equal(objects[1]!.error, 'connection_terminated');
  assert.equal(objects[1]!.causes[0]!.cause, 'keepalive_mismatch');
});

test('without LINE, explain reads stdin line by line', async () => {
  const r = await runWithStdin(['explain', '--json'], `${REFUSED}\n\n${TIMEOUT}\r\n${ENVOY}`);
  assert.equal(r.code, 0, r.stderr);
  const objects = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Explanation);
  assert.deepEqual(
    objects.map((o) => o.error),
    ['connection_refused', 'connection_read_timeout', 'connection_terminated'],
  );
  assert.equal(objects[1]!.line, TIMEOUT, 'the CR of a CRLF line is not part of it');
  const text = await runWithStdin(['explain'], `${TIMEOUT}\n`);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^connection_read_timeout/);
});

test('--error-log groups the failures of a log file and draws them per minute', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-explain-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'error.log');
  writeFileSync(
    file,
    `${REFUSED}\n${REFUSED.replace('09:21:00', '09:21:30')}\n${TIMEOUT}\n2024/03/14 09:22:01 [notice] 1#1: exiting\n`,
  );
  const r = await runCli(['explain', '--error-log', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^3 failures in 4 lines \(1 skipped as not failures\)/);
  assert.match(r.stdout, /\n\s+2 {2}connection_refused\s+backend_down\s+http:\/\/10\.0\.0\.5:5000/);
  assert.match(r.stdout, /failures per minute\n09:21 2 █+\n09:22 1 █+/);
  const json = await runCli(['explain', '--error-log', file, '--json']);
  const analysis = JSON.parse(json.stdout) as { failures: number; groups: { count: number }[] };
  assert.equal(analysis.failures, 3);
  assert.deepEqual(
    analysis.groups.map((g) => g.count),
    [2, 1],
  );
  const stdin = await runWithStdin(['explain', '--error-log', '-'], `${TIMEOUT}\n`);
  assert.match(stdin.stdout, /^1 failure in 1 line/);
});

test('an unreadable --error-log is one line on stderr and exit 1', async () => {
  const r = await runCli(['explain', '--error-log', '/nonexistent/gatewise-error.log']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'gatewise explain: cannot read /nonexistent/gatewise-error.log: ENOENT\n');
});

test('the text form is coloured only when asked', () => {
  const e = explainLine(REFUSED);
  assert.ok(renderExplanation(e, { color: true }).includes('\u001b[31m'));
  assert.ok(!renderExplanation(e, { color: false }).includes('\u001b['));
});
