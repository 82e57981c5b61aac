import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { hashString } from '../../../src/upstream/balancers/hash.js';

test('hashes are unsigned 32-bit integers and the same string always gives the same hash', () => {
  for (const text of ['', 'a', '10.0.0.1', '::ffff:127.0.0.1', 'ünïcödé ✓', 'x'.repeat(1000)]) {
    const hash = hashString(text);
    assert.ok(Number.isInteger(hash) && hash >= 0 && hash <= 0xffffffff, `${text}: ${hash}`);
    assert.equal(hashString(text), hash);
  }
});

test('changing the last character flips about half of the bits (keys that differ at the end spread out)', () => {
  let flipped = 0;
  const samples = 2000;
  for (let i = 0; i < samples; i++) {
    let difference = hashString(`10.0.${i}.1`) ^ hashString(`10.0.${i}.2`);
    while (difference !== 0) {
      flipped += difference & 1;
      difference >>>= 1;
    }
  }
  const average = flipped / samples;
  assert.ok(average > 15 && average < 17, `average bits flipped ${average}`);
});

test('hashes of sequential keys fill all sixteen sixteenths of the range about evenly', () => {
  const buckets = new Array<number>(16).fill(0);
  const keys = 16_000;
  for (let i = 0; i < keys; i++) buckets[hashString(`http://10.0.0.1:8080#${i}`) >>> 28]! += 1;
  for (const count of buckets) assert.ok(count > 850 && count < 1150, `buckets ${buckets}`);
});
