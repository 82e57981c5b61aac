// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are ${NAME} references under test, not templates
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { expandString } from '../../src/config/env.js';

const env = { HOST: 'db.internal', PORT: '5432', EMPTY: '' };

test('${NAME} and ${NAME:-default} expand inside a string', () => {
  const cases: Array<[string, string]> = [
    ['${HOST}', 'db.internal'],
    ['http://${HOST}:${PORT}/', 'http://db.internal:5432/'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'db.internal'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${MISSING:-}', ''],
    ['${MISSING:-a:-b}', 'a:-b'],
    ['$${HOST}', '${HOST}'],
    ['$HOST and $ alone', '$HOST and $ alone'],
    ['no references', 'no references'],
  ];
  for (const [text, expanded] of cases) {
    const result = expandString(text, env);
    assert.deepEqual(result.problems, [], text);
    assert.equal(result.value, expanded, text);
  }
});

test('an unset variable, a bad name and an unterminated reference are problems at their index', () => {
  assert.deepEqual(expandString('x ${MISSING} y', env).problems, [
    { index: 2, message: 'environment variable MISSING is not set (use "${MISSING:-default}" for a default)' },
  ]);
  assert.deepEqual(expandString('${1BAD}', env).problems, [
    { index: 0, message: 'bad variable reference "${1BAD}" (expected "${NAME}" or "${NAME:-default}")' },
  ]);
  assert.deepEqual(expandString('${}', env).problems.length, 1);
  assert.deepEqual(expandString('ok ${OPEN', env).problems, [
    { index: 3, message: 'unterminated variable reference "${OPEN" (expected "${NAME}")' },
  ]);
  const two = expandString('${A}${B}', env).problems.map((problem) => problem.index);
  assert.deepEqual(two, [0, 4]);
});
