import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { closest, didYouMean, editDistance } from '../../src/config/suggest.js';

test('edit distance counts an adjacent transposition as one edit', () => {
  assert.equal(editDistance('balance', 'balance'), 0);
  assert.equal(editDistance('ballance', 'balance'), 1);
  assert.equal(editDistance('tsl', 'tls'), 1);
  assert.equal(editDistance('conect', 'connect'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('the closest known key is suggested only when it is close', () => {
  const keys = ['servers', 'tls', 'balance', 'hash_header', 'timeouts', 'keepalive', 'retries'];
  assert.equal(closest('ballance', keys), 'balance');
  assert.equal(closest('tsl', keys), 'tls');
  assert.equal(closest('hashHeader', keys), 'hash_header');
  assert.equal(closest('hash-header', keys), 'hash_header');
  assert.equal(closest('Retries', keys), 'retries');
  assert.equal(closest('frobnicate', keys), undefined);
  assert.equal(closest('ab', ['tls']), undefined);
  assert.equal(didYouMean('timouts', keys), ' (did you mean "timeouts"?)');
  assert.equal(didYouMean('zzz', keys), '');
  assert.equal(didYouMean(42, keys), '');
});
