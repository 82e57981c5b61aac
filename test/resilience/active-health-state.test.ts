import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { firstProbeDelayMs, HealthCounter, nextProbeDelayMs } from '../../src/resilience/active-health.js';

test('a healthy server goes out on exactly unhealthy_after consecutive failures', () => {
  const counter = new HealthCounter('healthy', 2, 3);
  assert.equal(counter.record(false), undefined);
  assert.equal(counter.record(false), undefined);
  assert.equal(counter.state, 'healthy');
  assert.deepEqual(counter.record(false), { from: 'healthy', to: 'unhealthy', streak: 3 });
  assert.equal(counter.state, 'unhealthy');
  // More failures change nothing.
  assert.equal(counter.record(false), undefined);
  assert.equal(counter.consecutiveFail, 4);
});

test('an unhealthy server comes back on exactly healthy_after consecutive passes', () => {
  const counter = new HealthCounter('unhealthy', 2, 3);
  assert.equal(counter.record(true), undefined);
  assert.equal(counter.record(false), undefined);
  assert.equal(counter.record(true), undefined, 'the failure restarted the count');
  assert.deepEqual(counter.record(true), { from: 'unhealthy', to: 'healthy', streak: 2 });
  assert.equal(counter.consecutiveOk, 2);
  assert.equal(counter.consecutiveFail, 0);
});

test('thresholds of 1 flip on every change of outcome', () => {
  const counter = new HealthCounter('healthy', 1, 1);
  assert.deepEqual(counter.record(false), { from: 'healthy', to: 'unhealthy', streak: 1 });
  assert.deepEqual(counter.record(true), { from: 'unhealthy', to: 'healthy', streak: 1 });
});

test('the state is always what the last run of outcomes and the thresholds say', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('healthy' as const, 'unhealthy' as const),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.boolean(), { maxLength: 40 }),
      (initial, healthyAfter, unhealthyAfter, outcomes) => {
        const counter = new HealthCounter(initial, healthyAfter, unhealthyAfter);
        let expected = initial;
        let streak = 0;
        let last: boolean | undefined;
        for (const ok of outcomes) {
          streak = ok === last ? streak + 1 : 1;
          last = ok;
          const change = counter.record(ok);
          const flips =
            (expected === 'healthy' && !ok && streak >= unhealthyAfter) ||
            (expected === 'unhealthy' && ok && streak >= healthyAfter);
          if (flips) {
            assert.deepEqual(change, { from: expected, to: ok ? 'healthy' : 'unhealthy', streak });
            expected = ok ? 'healthy' : 'unhealthy';
          } else {
            assert.equal(change, undefined);
          }
          assert.equal(counter.state, expected);
        }
      },
    ),
  );
});

test('probe delays: the first within interval × jitter, later ones within interval × (1 ± jitter)', () => {
  assert.equal(firstProbeDelayMs(2000, 0, 0.7), 0);
  assert.equal(firstProbeDelayMs(2000, 0.1, 0.5), 100);
  assert.equal(nextProbeDelayMs(2000, 0, 0.9), 2000);
  assert.equal(nextProbeDelayMs(2000, 0.1, 0), 1800);
  assert.equal(nextProbeDelayMs(2000, 0.1, 0.5), 2000);
  // Jitter is capped at half the interval.
  assert.equal(nextProbeDelayMs(2000, 3, 0), 1000);
  assert.equal(firstProbeDelayMs(2000, -1, 0.5), 0);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60_000 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (intervalMs, jitter, random) => {
        const first = firstProbeDelayMs(intervalMs, jitter, random);
        assert.ok(first >= 0 && first <= Math.round(intervalMs * jitter));
        const next = nextProbeDelayMs(intervalMs, jitter, random);
        assert.ok(
          next >= Math.round(intervalMs * (1 - jitter)) - 1 && next <= Math.round(intervalMs * (1 + jitter)) + 1,
        );
      },
    ),
  );
});
