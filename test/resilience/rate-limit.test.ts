import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { DEFAULT_MAX_KEYS, RateLimiter, type RateLimitOptions } from '../../src/resilience/index.js';

function limiter(options: Partial<RateLimitOptions> = {}): RateLimiter {
  // 10 requests per second, 5 at once.
  return new RateLimiter({ rate: 10, per: 1000, burst: 5, ...options });
}

function takeMany(rate: RateLimiter, key: string, now: number, times: number): number {
  let granted = 0;
  for (let n = 0; n < times; n++) if (rate.take(key, now)) granted++;
  return granted;
}

test('a new key may spend its burst at once, then waits for refill', () => {
  const rate = limiter();
  assert.equal(takeMany(rate, '10.0.0.1', 0, 8), 5);
  assert.equal(rate.take('10.0.0.1', 99), false, 'less than one token refilled after 99 ms');
  assert.equal(rate.take('10.0.0.1', 100), true, 'one token per 100 ms');
  assert.equal(rate.take('10.0.0.1', 100), false);
});

test('keys have their own buckets', () => {
  const rate = limiter();
  assert.equal(takeMany(rate, 'a', 0, 5), 5);
  assert.equal(rate.take('a', 0), false);
  assert.equal(rate.take('b', 0), true);
  assert.equal(rate.size, 2);
});

test('refill is proportional to the time passed and stops at the burst', () => {
  const rate = limiter();
  takeMany(rate, 'k', 0, 5);
  assert.equal(takeMany(rate, 'k', 350, 10), 3, '3.5 tokens refilled');
  assert.equal(takeMany(rate, 'k', 400, 10), 1, 'the half token carried over');
  assert.equal(takeMany(rate, 'k', 60_000, 10), 5, 'never more than the burst');
});

test('a sustained flood gets the configured rate, not more', () => {
  const rate = limiter();
  let granted = 0;
  for (let now = 0; now < 10_000; now += 7) if (rate.take('flood', now)) granted++;
  // 10 per second for 10 s, plus the initial burst.
  assert.ok(granted >= 99 && granted <= 105, `${granted} granted`);
});

test('retryAfterMs tells how long until the next token', () => {
  const rate = limiter({ rate: 1, per: 2000, burst: 1 });
  assert.equal(rate.retryAfterMs('unknown', 0), 0);
  assert.equal(rate.take('k', 0), true);
  assert.equal(rate.retryAfterMs('k', 0), 2000);
  assert.equal(rate.retryAfterMs('k', 1500), 500);
  assert.equal(rate.retryAfterMs('k', 2000), 0);
  assert.equal(rate.take('k', 1999), false);
  assert.equal(rate.take('k', 2000), true);
});

test('a clock that steps back neither refills nor drains a bucket', () => {
  const rate = limiter();
  takeMany(rate, 'k', 1000, 5);
  assert.equal(rate.take('k', 500), false);
  assert.equal(rate.retryAfterMs('k', 500), 100);
  assert.equal(rate.take('k', 1100), true);
});

test('prune forgets exactly the buckets that have refilled, which changes no answer', () => {
  const rate = limiter();
  takeMany(rate, 'quiet', 0, 1);
  takeMany(rate, 'busy', 0, 5);
  takeMany(rate, 'recent', 400, 1);
  // At 450: quiet refilled 4 + 4.5 → full; busy has 4.5 of 5; recent 4 + 0.5.
  assert.equal(rate.prune(450), 1);
  assert.equal(rate.size, 2);
  assert.equal(takeMany(rate, 'quiet', 450, 10), 5, 'a forgotten key has its full burst, as it would have');
  assert.equal(takeMany(rate, 'busy', 450, 10), 4);
  assert.equal(rate.prune(10_000), 3);
  assert.equal(rate.size, 0);
});

test('memory is capped at max_keys: the oldest keys go first', () => {
  const rate = limiter({ max_keys: 100 });
  for (let n = 0; n < 100; n++) rate.take(`k${n}`, 0);
  assert.equal(rate.size, 100);
  rate.take('new', 0);
  assert.equal(rate.size, 100);
  // k0 was evicted: it starts over with a full burst, while k1 still has 4 tokens left.
  assert.equal(takeMany(rate, 'k0', 0, 10), 5);
  assert.equal(takeMany(rate, 'k2', 0, 10), 4);
  for (let n = 0; n < 50_000; n++) rate.take(`flood${n}`, 0);
  assert.ok(rate.size <= 100);
  assert.equal(new RateLimiter({ rate: 1, per: 1000, burst: 1 }).maxKeys, DEFAULT_MAX_KEYS);
});

test('a key being refused moves to the back, so a flood of new keys does not reset its limit', () => {
  const rate = limiter({ max_keys: 100 });
  takeMany(rate, 'abuser', 0, 6); // the sixth is refused
  for (let n = 0; n < 99; n++) rate.take(`k${n}`, 0);
  rate.take('abuser', 0); // refused again: now the newest
  for (let n = 0; n < 50; n++) rate.take(`new${n}`, 0);
  assert.equal(rate.take('abuser', 0), false, 'still limited');
});
