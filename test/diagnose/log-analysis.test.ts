import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { analyzeLog, renderLogAnalysis } from '../../src/diagnose/log-analysis.js';

function refused(minute: number, second: number, port = 5000): string {
  return `2024/03/14 09:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')} [error] 2311#2311: *${minute * 100 + second} connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: api, request: "GET /v1/x${second} HTTP/1.1", upstream: "http://10.0.0.5:${port}/v1/x${second}", host: "api"`;
}

function timedOut(minute: number, second: number): string {
  return `2024/03/14 09:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')} [error] 2311#2311: *9${minute} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 203.0.113.7, server: api, request: "GET /slow HTTP/1.1", upstream: "http://10.0.0.6:5000/slow", host: "api"`;
}

const NOTICE = '2024/03/14 09:00:00 [notice] 2311#2311: signal process started';

const LOG = [
  refused(0, 1),
  refused(0, 2),
  NOTICE,
  refused(0, 30),
  timedOut(1, 5),
  '',
  refused(3, 59),
  'not a log line at all',
  timedOut(3, 10),
  refused(3, 0, 5001),
];

test('failures are grouped by error, cause and upstream, with counts and first/last seen', async () => {
  const a = await analyzeLog(LOG, { now: new Date('2024-03-14T10:00:00Z') });
  assert.equal(a.lines, LOG.length);
  assert.equal(a.failures, 7);
  assert.equal(a.skipped, 3, 'the notice, the blank line and the unknown line');
  assert.equal(a.unrecognised, 1);
  assert.equal(a.sources['nginx_error'], 8);
  assert.equal(a.generatedAt, '2024-03-14T10:00:00.000Z');
  assert.deepEqual(
    a.groups.map((g) => [g.count, g.error, g.cause, g.upstream]),
    [
      [4, 'connection_refused', 'backend_down', 'http://10.0.0.5:5000'],
      [2, 'connection_read_timeout', 'slow_backend', 'http://10.0.0.6:5000'],
      [1, 'connection_refused', 'backend_down', 'http://10.0.0.5:5001'],
    ],
  );
  const first = a.groups[0]!;
  assert.equal(first.firstSeen, '2024-03-14T09:00:01');
  assert.equal(first.lastSeen, '2024-03-14T09:03:59');
  assert.equal(first.source, 'nginx_error');
  assert.equal(first.example.line, LOG[0]);
  assert.equal(a.firstSeen, '2024-03-14T09:00:01');
  assert.equal(a.lastSeen, '2024-03-14T09:03:59');
});

test('failures are counted per minute, minutes without failures included', async () => {
  const a = await analyzeLog(LOG);
  assert.deepEqual(
    a.perMinute.map((m) => m.count),
    [3, 1, 0, 3],
  );
  const minutes = a.perMinute.map((m) => new Date(m.minute).getTime());
  for (let i = 1; i < minutes.length; i++) assert.equal(minutes[i]! - minutes[i - 1]!, 60_000);
  // Each group's minutes span the whole log, so the groups line up.
  assert.deepEqual(
    a.groups[0]!.perMinute.map((m) => m.count),
    [3, 0, 0, 1],
  );
  assert.deepEqual(
    a.groups[1]!.perMinute.map((m) => m.count),
    [0, 1, 0, 1],
  );
});

test('lines come from an async stream as well', async () => {
  const a = await analyzeLog(Readable.from(LOG));
  assert.equal(a.failures, 7);
});

test('a log of successes has no failures', async () => {
  const a = await analyzeLog([
    '203.0.113.7 - - [14/Mar/2024:09:21:03 +0000] "GET / HTTP/1.1" 200 5120 "-" "curl/8.5.0" us="200" uht="0.021" urt="0.022"',
    NOTICE,
  ]);
  assert.equal(a.failures, 0);
  assert.equal(a.skipped, 2);
  assert.deepEqual(a.groups, []);
  assert.deepEqual(a.perMinute, []);
  const text = renderLogAnalysis(a, { color: false });
  assert.match(text, /^0 failures in 2 lines/);
  assert.match(text, /No failures found\./);
});

test("a Gatewise log counts a failed request's attempts, not its access record again", async () => {
  const failure = (id: string, attempt: number): string =>
    JSON.stringify({
      level: 50,
      time: '2024-03-14T09:21:00.000Z',
      msg: 'upstream failure',
      request_id: id,
      server: '10.0.0.5:5001',
      attempt,
      phase: 'connect',
      proxy_status: 'connection_refused',
      cause: 'backend_down',
      detail: 'refused',
    });
  const access = (id: string, status: number, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      level: 30,
      time: '2024-03-14T09:21:00.100Z',
      msg: 'access',
      request_id: id,
      method: 'GET',
      path: '/',
      status,
      server: '10.0.0.5:5001',
      attempts: 2,
      ...extra,
    });
  const a = await analyzeLog([
    access('r-1', 502, { proxy_status: 'connection_refused', cause: 'backend_down' }),
    failure('r-1', 1),
    failure('r-1', 2),
    // Access record only (its failure records were filtered away): counted once.
    access('r-2', 502, { proxy_status: 'connection_refused', cause: 'backend_down' }),
    access('r-3', 200),
  ]);
  assert.equal(a.failures, 3);
  assert.equal(a.skipped, 2);
});

test('the rendering shows the table, the histogram with block characters and the top hint', async () => {
  const a = await analyzeLog(LOG);
  const text = renderLogAnalysis(a, { color: false, width: 100 });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^7 failures in 10 lines \(3 skipped as not failures, 1 not recognised\)/);
  const header = lines.findIndex((l) => /^count\s+error\s+cause\s+upstream\s+first\s+last/.test(l));
  assert.ok(header > 0, text);
  assert.match(
    lines[header + 1]!,
    /^\s*4 {2}connection_refused\s+backend_down\s+http:\/\/10\.0\.0\.5:5000\s+09:00:01\s+09:03:59/,
  );
  const histogram = lines.indexOf('failures per minute');
  assert.ok(histogram > header, text);
  const bars = lines.slice(histogram + 1, histogram + 5);
  assert.deepEqual(
    bars.map((l) => l.replace(/[█▏▎▍▌▋▊▉]+$/, '').trim()),
    ['09:00 3', '09:01 1', '09:02 0', '09:03 3'],
  );
  // The longest bar for the busiest minute, a shorter one for one failure, none for none.
  assert.ok(bars[0]!.includes('█') && bars[1]!.length < bars[0]!.length && !/[█▏▎▍▌▋▊▉]/.test(bars[2]!));
  assert.match(text, /most frequent: connection to 10\.0\.0\.5:5000 refused/);
  assert.match(text, /hint: Nothing accepts connections/);
  assert.ok(!text.includes('\u001b['), 'no colour when not asked');
  for (const line of lines.filter((l) => !l.startsWith('    $ ')))
    assert.ok(line.length <= 100, `line wider than the terminal: ${line}`);
  assert.ok(lines.includes("    $ ss -ltnp 'sport = :5000'"), text);
});

test('colour is used only when asked', async () => {
  const a = await analyzeLog(LOG);
  assert.ok(renderLogAnalysis(a, { color: true }).includes('\u001b[31m'));
});

test('a long log is drawn in buckets of minutes', async () => {
  const lines: string[] = [];
  for (let minute = 0; minute < 60; minute++) lines.push(refused(minute, 0));
  const a = await analyzeLog(lines);
  assert.equal(a.perMinute.length, 60);
  const text = renderLogAnalysis(a, { color: false });
  assert.match(text, /failures per 2 minutes/);
  const rows = text.split('\n').filter((l) => /^09:\d\d\s+\d+ /.test(l));
  assert.equal(rows.length, 30);
  assert.ok(
    rows.every((r) => / 2 █+$/.test(r)),
    rows.join('\n'),
  );
});
