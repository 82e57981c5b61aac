import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { effectiveWeight } from '../../src/resilience/index.js';

test('slow start ramps the weight linearly from about 10 % to 100 %', () => {
  assert.equal(effectiveWeight(100, 0, 0, 10_000), 10);
  assert.equal(effectiveWeight(100, 0, 5000, 10_000), 55);
  assert.equal(effectiveWeight(100, 0, 9999, 10_000), 100);
  assert.equal(effectiveWeight(100, 0, 10_000, 10_000), 100);
  assert.equal(effectiveWeight(100, 0, 1e9, 10_000), 100);
});

test('the weight is an integer of at least 1 and never falls during the ramp', () => {
  for (const base of [1, 2, 3, 7, 10, 256]) {
    let previous = 0;
    for (let now = 0; now <= 30_000; now += 250) {
      const weight = effectiveWeight(base, 0, now, 30_000);
      assert.ok(Number.isInteger(weight) && weight >= 1 && weight <= base, `base ${base} at ${now}: ${weight}`);
      assert.ok(weight >= previous);
      previous = weight;
    }
    assert.equal(previous, base);
  }
});

test('no slow start, or a start time in the future, is handled', () => {
  assert.equal(effectiveWeight(5, 1000, 1000, 0), 5);
  assert.equal(effectiveWeight(5, 1000, 1000, -1), 5);
  assert.equal(effectiveWeight(20, 5000, 1000, 10_000), 2, 'healthy since a later time: the initial share');
  assert.equal(effectiveWeight(0, 0, 0, 0), 1);
});
