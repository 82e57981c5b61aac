import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { type BreakerOptions, CircuitBreaker } from '../../src/resilience/index.js';
import { recorder } from './events.js';

const BASE: BreakerOptions = {
  failure_ratio: 0.5,
  min_requests: 10,
  window: 10_000,
  consecutive_failures: 5,
  open_for: 1000,
  max_open_for: 5000,
  half_open_requests: 2,
};

function breaker(options: Partial<BreakerOptions> = {}) {
  const { events, sink } = recorder();
  return { events, breaker: new CircuitBreaker('api', 'http://127.0.0.1:5001', { ...BASE, ...options }, sink) };
}

function outcomes(target: CircuitBreaker, now: number, pattern: string): void {
  for (const mark of pattern) {
    assert.equal(target.tryAcquire(now), true);
    target.record(mark === '.', now);
  }
}

/** Moves an open breaker through half_open back to closed at `now`. */
function closeAgain(target: CircuitBreaker, now: number): void {
  assert.equal(target.tryAcquire(now), true);
  assert.equal(target.tryAcquire(now), true);
  target.record(true, now);
  target.record(true, now);
  assert.equal(target.state, 'closed');
}

test('closed admits everything; failures in a row open it with an event', () => {
  const { events, breaker: b } = breaker();
  outcomes(b, 0, 'xxxx');
  assert.equal(b.state, 'closed');
  outcomes(b, 100, 'x');
  assert.equal(b.state, 'open');
  assert.deepEqual(events, [
    {
      kind: 'breaker',
      upstream: 'api',
      server: 'http://127.0.0.1:5001',
      atMs: 100,
      from: 'closed',
      to: 'open',
      reason: 'consecutive_failures',
      untilMs: 1100,
    },
  ]);
  assert.equal(b.openUntilMs, 1100);
});

test('a success breaks the run of failures', () => {
  const { breaker: b } = breaker({ min_requests: 1000 });
  outcomes(b, 0, 'xxxx.xxxx.xxxx');
  assert.equal(b.state, 'closed');
});

test('the failure ratio opens it only when exceeded and with min_requests in the window', () => {
  const { events, breaker: b } = breaker({ consecutive_failures: 0 });
  outcomes(b, 0, 'xxxxx...'); // 8 requests, 5 failures: too few requests
  assert.equal(b.state, 'closed');
  outcomes(b, 0, '..x'); // 11 requests, 6 failures
  assert.equal(b.state, 'open');
  const exact = breaker({ consecutive_failures: 0 });
  outcomes(exact.breaker, 0, '.x.x.x.x.x'); // 10 requests, 5 failures: 0.5 is not above 0.5
  outcomes(exact.breaker, 0, '.x'); // 12 requests, 6 failures
  assert.equal(exact.breaker.state, 'closed');
  outcomes(exact.breaker, 0, 'x'); // 13 requests, 7 failures
  assert.equal(exact.breaker.state, 'open');
  assert.equal(events[0]?.reason, 'failure_ratio');
});

test('failures older than the window no longer count towards the ratio', () => {
  const { breaker: b } = breaker({ consecutive_failures: 0 });
  outcomes(b, 0, 'xxxx.');
  outcomes(b, 10_000, 'xx....'); // the first five have aged out: 2 of 6
  assert.equal(b.state, 'closed');
  outcomes(b, 10_000, '....');
  assert.equal(b.state, 'closed');
});

test('open refuses until open_for has passed, then goes half open lazily on tryAcquire', () => {
  const { events, breaker: b } = breaker();
  outcomes(b, 0, 'xxxxx');
  assert.equal(b.tryAcquire(999), false);
  assert.equal(b.state, 'open');
  assert.equal(b.tryAcquire(1000), true);
  assert.equal(b.state, 'half_open');
  assert.deepEqual(events.at(-1), {
    kind: 'breaker',
    upstream: 'api',
    server: 'http://127.0.0.1:5001',
    atMs: 1000,
    from: 'open',
    to: 'half_open',
    reason: 'open_elapsed',
  });
});

test('half open admits at most half_open_requests probes at once; release frees a slot', () => {
  const { breaker: b } = breaker();
  outcomes(b, 0, 'xxxxx');
  assert.equal(b.tryAcquire(1000), true);
  assert.equal(b.tryAcquire(1000), true);
  assert.equal(b.tryAcquire(1000), false);
  assert.equal(b.inFlightProbes, 2);
  b.release();
  assert.equal(b.inFlightProbes, 1);
  assert.equal(b.tryAcquire(1001), true);
  assert.equal(b.tryAcquire(1001), false);
  b.release();
  b.release();
  b.release(); // more releases than probes never go below zero
  assert.equal(b.inFlightProbes, 0);
});

test('half_open_requests probe successes close it, with an event', () => {
  const { events, breaker: b } = breaker();
  outcomes(b, 0, 'xxxxx');
  assert.equal(b.tryAcquire(1000), true);
  assert.equal(b.tryAcquire(1000), true);
  b.record(true, 1010);
  assert.equal(b.state, 'half_open', 'one success of two');
  assert.equal(b.tryAcquire(1010), true, 'the finished probe frees its slot');
  b.record(true, 1020);
  assert.equal(b.state, 'closed');
  assert.deepEqual(events.at(-1), {
    kind: 'breaker',
    upstream: 'api',
    server: 'http://127.0.0.1:5001',
    atMs: 1020,
    from: 'half_open',
    to: 'closed',
    reason: 'probes_succeeded',
  });
  // Closing starts from a clean slate: four failures are not yet five in a row.
  outcomes(b, 1030, 'xxxx');
  assert.equal(b.state, 'closed');
});

test('a probe failure re-opens it for twice as long, up to max_open_for', () => {
  const { events, breaker: b } = breaker();
  outcomes(b, 0, 'xxxxx');
  let now = 0;
  const periods: number[] = [];
  for (let round = 0; round < 5; round++) {
    const until = b.openUntilMs;
    periods.push(until - now);
    now = until;
    assert.equal(b.tryAcquire(now), true);
    b.record(false, now);
    assert.equal(b.state, 'open');
  }
  assert.deepEqual(periods, [1000, 2000, 4000, 5000, 5000]);
  assert.equal(events.at(-1)?.reason, 'probe_failed');
});

test('the open period starts over after the breaker has stayed closed for a whole window', () => {
  for (const [closedMs, expected] of [
    [9999, 2000],
    [10_000, 1000],
  ] as const) {
    const { breaker: b } = breaker();
    outcomes(b, 0, 'xxxxx');
    closeAgain(b, 1000);
    outcomes(b, 1000 + closedMs, 'xxxxx');
    assert.equal(b.openUntilMs - (1000 + closedMs), expected, `closed for ${closedMs} ms`);
  }
});

test('outcomes arriving while open are ignored', () => {
  const { events, breaker: b } = breaker();
  outcomes(b, 0, 'xxxxx');
  b.record(false, 10);
  b.record(true, 20);
  assert.equal(b.state, 'open');
  assert.equal(b.openUntilMs, 1000);
  assert.equal(events.length, 1);
});

test('every transition of a full cycle emits exactly one event', () => {
  const { events, breaker: b } = breaker({ half_open_requests: 1 });
  outcomes(b, 0, 'xxxxx');
  assert.equal(b.tryAcquire(1000), true);
  b.record(false, 1000);
  assert.equal(b.tryAcquire(3000), true);
  b.record(true, 3000);
  assert.deepEqual(
    events.map((event) => (event.kind === 'breaker' ? `${event.from}→${event.to}` : event.kind)),
    ['closed→open', 'open→half_open', 'half_open→open', 'open→half_open', 'half_open→closed'],
  );
});
