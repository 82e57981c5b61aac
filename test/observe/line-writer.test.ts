import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accessLine } from '../../src/observe/access-log.js';
import { LineWriter } from '../../src/observe/line-writer.js';

test('LineWriter keeps every line, in order, across chunks, with lines longer than a chunk', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-lines-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'access.log');
  const writer = new LineWriter(file);
  const expected: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const line = i === 2500 ? `${'x'.repeat(100_000)} é ${i}\n` : `{"n":${i},"s":"ünïcødé ${'y'.repeat(i % 97)}"}\n`;
    expected.push(line);
    writer.write(line);
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  // The periodic flush writes without close.
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(readFileSync(file, 'utf8').length > 0);
  writer.close();
  assert.equal(readFileSync(file, 'utf8'), expected.join(''));
});

test('access lines are pino-shaped JSON, escaping what the client controls', () => {
  const ex = {
    requestId: 'abc-1',
    downstream: { client: { clientAddress: '127.0.0.1' } },
    method: 'GET',
    host: 'example.com',
    path: '/a"b\\c',
    status: 200,
    bytesOut: 12,
    startedAt: performance.now(),
    route: { label: '#0 /' },
    upstream: { name: 'api' },
    server: { address: '127.0.0.1:5001' },
    attempt: 1,
    connectMs: 1.234,
    headMs: -1,
    failure: null,
  };
  const record = JSON.parse(accessLine(ex as never)) as Record<string, unknown>;
  assert.equal(record.level, 30);
  assert.equal(record.msg, 'access');
  assert.equal(record.path, '/a"b\\c');
  assert.equal(record.upstream_connect_ms, 1.23);
  assert.equal('upstream_head_ms' in record, false);
  assert.match(String(record.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});
