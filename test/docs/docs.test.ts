/** The documents that restate the code stay in step with it. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from '../../src/config/reference.js';
import { ERROR_TYPES, ROOT_CAUSES } from '../../src/diagnose/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('docs/config-reference.md is generated from the current schema', () => {
  const onDisk = readFileSync(`${root}docs/config-reference.md`, 'utf8');
  assert.equal(
    onDisk,
    renderConfigReference(),
    'run: npm run build && node scripts/config-reference.js > docs/config-reference.md',
  );
});

test('the README names every error type and root cause of the taxonomy', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  for (const type of Object.keys(ERROR_TYPES))
    assert.ok(readme.includes(`\`${type}\``), `README lacks error type ${type}`);
  for (const cause of Object.keys(ROOT_CAUSES))
    assert.ok(readme.includes(`\`${cause}\``), `README lacks root cause ${cause}`);
});

test('the README opens with the two commands', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const head = readme.slice(0, 600);
  assert.ok(head.includes('npm ci && npm start'));
  assert.ok(head.includes('npm test'));
});
