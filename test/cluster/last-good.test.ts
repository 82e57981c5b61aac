/** The last good copy in data_dir: written whole or not at all, owner-only, and read back with care. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type LastGood, lastGoodPath, readLastGood, writeLastGood } from '../../src/cluster/index.js';

const copy = (revision: number, prefix = '/gatewise'): LastGood => ({
  prefix,
  revision,
  config_hash: `hash${revision}`,
  saved_at: '2025-01-01T00:00:00.000Z',
  text: `# revision ${revision}\n`,
});

test('written atomically into a created, owner-only directory; read back', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gatewise-lastgood-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'var', 'gatewise');
  assert.deepEqual(await readLastGood(dataDir, '/gatewise'), {
    found: false,
    why: `no last good configuration in ${lastGoodPath(dataDir)} (none saved yet)`,
  });
  await writeLastGood(dataDir, copy(3));
  await writeLastGood(dataDir, copy(7));
  assert.deepEqual(await readLastGood(dataDir, '/gatewise'), { found: true, lastGood: copy(7) });
  assert.deepEqual(readdirSync(dataDir), ['last-good.json'], 'only the file: no temporary left');
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(lastGoodPath(dataDir)).mode & 0o777, 0o600);
});

test('a damaged copy or one of another prefix is not used, and says why', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewise-lastgood-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  await writeLastGood(dataDir, copy(5, '/other'));
  assert.deepEqual(await readLastGood(dataDir, '/gatewise'), {
    found: false,
    why: `${lastGoodPath(dataDir)} holds the configuration of prefix /other, not /gatewise`,
  });
  writeFileSync(lastGoodPath(dataDir), '{"prefix": "/gatewise", "revi');
  const read = await readLastGood(dataDir, '/gatewise');
  assert.equal(read.found, false);
  assert.match(read.found ? '' : read.why, /is damaged \(not JSON\)$/);
  writeFileSync(lastGoodPath(dataDir), '{"prefix": "/gatewise"}');
  const partial = await readLastGood(dataDir, '/gatewise');
  assert.match(partial.found ? '' : partial.why, /is damaged \(fields missing\)$/);
});
