import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RollingCounter } from '../../src/resilience/index.js';

test('counts add up within the window and age out one bucket at a time', () => {
  const counter = new RollingCounter(1000, 10, 1); // 100 ms buckets
  counter.add(0, 0);
  counter.add(50, 0, 2);
  counter.add(150, 0);
  assert.equal(counter.total(150, 0), 4);
  assert.equal(counter.total(999, 0), 4);
  // At 1000 the bucket [0, 100) has left the window, [100, 200) has not.
  assert.equal(counter.total(1000, 0), 1);
  assert.equal(counter.total(1100, 0), 0);
});

test('a gap longer than the window empties it', () => {
  const counter = new RollingCounter(1000, 10, 1);
  for (let t = 0; t < 1000; t += 10) counter.add(t, 0);
  assert.equal(counter.total(999, 0), 100);
  assert.equal(counter.total(50_000, 0), 0);
  counter.add(50_000, 0);
  assert.equal(counter.total(50_000, 0), 1);
});

test('channels are counted apart but age out together', () => {
  const counter = new RollingCounter(10_000, 10, 2);
  counter.add(0, 0, 5);
  counter.add(0, 1, 3);
  counter.add(5000, 1);
  assert.deepEqual([counter.total(5000, 0), counter.total(5000, 1)], [5, 4]);
  assert.deepEqual([counter.total(10_000, 0), counter.total(10_000, 1)], [0, 1]);
});

test('time that steps back is counted in the newest bucket', () => {
  const counter = new RollingCounter(1000, 10, 1);
  counter.add(500, 0);
  counter.add(200, 0);
  assert.equal(counter.total(500, 0), 2);
  // Both counts sit in the bucket of t=500, so both leave when it does.
  assert.equal(counter.total(1499, 0), 2);
  assert.equal(counter.total(1500, 0), 0);
});

test('clear forgets everything', () => {
  const counter = new RollingCounter(1000, 10, 1);
  counter.add(0, 0, 7);
  counter.clear();
  assert.equal(counter.total(10, 0), 0);
  counter.add(20, 0);
  assert.equal(counter.total(20, 0), 1);
});
