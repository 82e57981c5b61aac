import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ERROR_TYPES } from '../../src/diagnose/index.js';
import {
  RETRY_ON_FAILURES,
  ResilienceConfigError,
  RetryBudget,
  type RetryOnToken,
  RetryPolicy,
  type RetryPolicyOptions,
} from '../../src/resilience/index.js';

const BASE: RetryPolicyOptions = {
  attempts: 3,
  on: [],
  per_try_timeout: 0,
  deadline: 0,
  backoff: { base: 100, max: 1000 },
  body_limit: 65_536,
};

function policy(options: Partial<RetryPolicyOptions> = {}): RetryPolicy {
  return new RetryPolicy({ ...BASE, ...options });
}

/** [type, phase] pairs each token retries, and some it must not. */
const CASES: Record<RetryOnToken, { yes: [string, string][]; no: [string, string][] }> = {
  connect_failure: {
    yes: [
      ['connection_refused', 'connect'],
      ['connection_timeout', 'connect'],
      ['dns_error', 'dns'],
      ['dns_timeout', 'dns'],
      ['destination_not_found', 'connect'],
      ['destination_ip_unroutable', 'connect'],
      ['tls_protocol_error', 'tls'],
      ['tls_certificate_error', 'tls'],
      ['tls_alert_received', 'tls'],
    ],
    no: [
      ['tls_protocol_error', 'read_head'], // a TLS server's answer to plain HTTP: the request was sent
      ['connection_terminated', 'read_head'],
      ['connection_read_timeout', 'read_head'],
      ['destination_unavailable', 'select'],
      ['destination_not_found', 'route'],
      ['connection_limit_reached', 'queue'],
    ],
  },
  refused: {
    yes: [['connection_refused', 'connect']],
    no: [
      ['connection_timeout', 'connect'],
      ['connection_terminated', 'read_head'],
    ],
  },
  reset: {
    yes: [
      ['connection_terminated', 'read_head'],
      ['connection_terminated', 'send'],
    ],
    no: [
      ['connection_refused', 'connect'],
      ['http_response_incomplete', 'read_body'],
    ],
  },
  timeout: {
    yes: [
      ['connection_timeout', 'connect'],
      ['connection_read_timeout', 'read_head'],
      ['connection_write_timeout', 'send'],
    ],
    no: [
      ['dns_timeout', 'dns'],
      ['connection_refused', 'connect'],
    ],
  },
  tls: {
    yes: [
      ['tls_protocol_error', 'tls'],
      ['tls_protocol_error', 'read_head'],
      ['tls_certificate_error', 'tls'],
      ['tls_alert_received', 'tls'],
    ],
    no: [['connection_refused', 'connect']],
  },
  protocol: {
    yes: [
      ['http_protocol_error', 'read_head'],
      ['http_response_header_section_size', 'read_head'],
    ],
    no: [
      ['http_response_incomplete', 'read_body'],
      ['connection_terminated', 'read_head'],
    ],
  },
};

for (const token of Object.keys(RETRY_ON_FAILURES) as RetryOnToken[]) {
  test(`retry on ${token}: retries what it names and nothing else`, () => {
    const retry = policy({ on: [token] });
    for (const [type, phase] of CASES[token].yes) {
      assert.equal(retry.retriableFailure(type, 'ANY', phase), true, `${type} in ${phase}`);
    }
    for (const [type, phase] of CASES[token].no) {
      assert.equal(retry.retriableFailure(type, 'ANY', phase), false, `${type} in ${phase}`);
    }
  });
}

test('with every token on, exactly the expected error types are retried in some phase', () => {
  const retry = policy({ on: Object.keys(RETRY_ON_FAILURES) });
  const phases = ['route', 'select', 'queue', 'dns', 'connect', 'tls', 'send', 'read_head', 'read_body', 'internal'];
  const retried = Object.keys(ERROR_TYPES).filter((type) =>
    phases.some((phase) => retry.retriableFailure(type, '', phase)),
  );
  assert.deepEqual(retried.sort(), [
    'connection_read_timeout',
    'connection_refused',
    'connection_terminated',
    'connection_timeout',
    'connection_write_timeout',
    'destination_ip_unroutable',
    'destination_not_found',
    'dns_error',
    'dns_timeout',
    'http_protocol_error',
    'http_response_header_section_size',
    'tls_alert_received',
    'tls_certificate_error',
    'tls_protocol_error',
  ]);
});

test('nothing is retried when `on` is empty, and unknown types or phases never are', () => {
  assert.equal(policy().retriableFailure('connection_refused', 'ECONNREFUSED', 'connect'), false);
  const retry = policy({ on: ['connect_failure'] });
  assert.equal(retry.retriableFailure('no_such_type', '', 'connect'), false);
  assert.equal(retry.retriableFailure('connection_refused', '', 'no_such_phase'), false);
});

test('an unknown token is a typed configuration error', () => {
  assert.throws(
    () => policy({ on: ['conect_failure'] }),
    (error: unknown) =>
      error instanceof ResilienceConfigError &&
      error.code === 'GW_RETRY_ON_UNKNOWN' &&
      error.message.includes('"conect_failure"'),
  );
  assert.throws(() => policy({ on: ['999'] }), ResilienceConfigError);
});

test('statuses named in `on` are retried, others are not', () => {
  const retry = policy({ on: ['502', '503', 'timeout'] });
  assert.equal(retry.retriableStatus(502), true);
  assert.equal(retry.retriableStatus(503), true);
  assert.equal(retry.retriableStatus(500), false);
  assert.equal(retry.retriableStatus(504), false);
  assert.equal(retry.retriableStatus(-1), false);
  assert.equal(retry.retriableStatus(1000), false);
});

test('backoff is full jitter under a ceiling that doubles per retry up to max', () => {
  const retry = policy();
  const top = () => 0.999_999_999;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 60, 2000].map((attempt) => retry.backoffMs(attempt, top)),
    [100, 200, 400, 800, 1000, 1000, 1000, 1000],
  );
  assert.equal(
    retry.backoffMs(3, () => 0),
    0,
  );
  assert.equal(
    retry.backoffMs(3, () => 0.5),
    200,
  );
  assert.equal(retry.backoffMs(0, top), 0);
  // A deterministic sequence: every draw is a whole number of ms within [0, ceiling], and draws spread.
  let seed = 42;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const draws = Array.from({ length: 2000 }, () => retry.backoffMs(2, next));
  assert.ok(draws.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= 200));
  assert.ok(Math.min(...draws) < 20 && Math.max(...draws) > 180);
  assert.equal(policy({ backoff: { base: 0, max: 0 } }).backoffMs(3, top), 0);
});

test('attempts and the deadline decide whether another try may start', () => {
  const retry = policy({ deadline: 5000, per_try_timeout: 2000 });
  assert.equal(retry.mayRetry(1, 0, 100), true);
  assert.equal(retry.mayRetry(3, 0, 100), false, 'three tries made of three');
  assert.equal(retry.mayRetry(1, 0, 4900, 200), false, 'the backoff would end past the deadline');
  assert.equal(retry.mayRetry(1, 0, 5000), false);
  assert.equal(retry.remainingMs(0, 4000), 1000);
  assert.equal(retry.tryTimeoutMs(0, 1000), 2000);
  assert.equal(retry.tryTimeoutMs(0, 4000), 1000, 'cut to what remains of the deadline');
  assert.equal(policy().tryTimeoutMs(0, 1000), 0, 'no per-try limit and no deadline');
  assert.equal(policy().remainingMs(0, 1e12), Number.POSITIVE_INFINITY);
  assert.equal(policy({ attempts: 1 }).mayRetry(1, 0, 0), false);
});

test('a policy with a budget owns one; without, none', () => {
  assert.equal(policy().budget, undefined);
  const withBudget = policy({ budget: { percent: 0.2, min_per_second: 1 } });
  assert.ok(withBudget.budget instanceof RetryBudget);
  assert.equal(withBudget.budget.percent, 0.2);
});

test('budget: min_per_second allows retries with no traffic, then refills as the window slides', () => {
  const budget = new RetryBudget({ percent: 0, min_per_second: 1 });
  for (let n = 0; n < 10; n++) assert.equal(budget.tryRetry(0), true, `retry ${n + 1}`);
  assert.equal(budget.tryRetry(500), false);
  assert.equal(budget.spent(9999), 10);
  assert.equal(budget.tryRetry(9999), false);
  assert.equal(budget.tryRetry(10_000), true, 'the first second has left the window');
});

test('budget: percent of the requests in the window', () => {
  const budget = new RetryBudget({ percent: 0.29, min_per_second: 0 });
  for (let n = 0; n < 100; n++) budget.recordRequest(0);
  assert.ok(Math.abs(budget.allowance(0) - 29) < 1e-6);
  let granted = 0;
  while (budget.tryRetry(0)) granted++;
  assert.equal(granted, 29);
});

test('budget under an outage: with every request failing, retries stay within the budget in every window', () => {
  const retry = policy({ attempts: 3, budget: { percent: 0.2, min_per_second: 2 } });
  const budget = retry.budget!;
  const seconds = 120;
  const requestsPerSecond = new Array<number>(seconds).fill(0);
  const retriesPerSecond = new Array<number>(seconds).fill(0);
  let wanted = 0;
  for (let second = 0; second < seconds; second++) {
    // Traffic varies: 30 to 120 requests a second, spread across the second.
    const rate = 30 + ((second * 37) % 91);
    for (let n = 0; n < rate; n++) {
      const now = second * 1000 + Math.floor((n * 1000) / rate);
      budget.recordRequest(now);
      requestsPerSecond[second]!++;
      for (let tries = 1; retry.mayRetry(tries, now, now); tries++) {
        wanted++;
        if (!budget.tryRetry(now)) break;
        retriesPerSecond[second]!++;
      }
    }
  }
  const granted = retriesPerSecond.reduce((sum, count) => sum + count, 0);
  const requests = requestsPerSecond.reduce((sum, count) => sum + count, 0);
  assert.ok(granted > 0.15 * requests, `retries were granted (${granted} of ${requests} requests)`);
  assert.ok(granted < wanted / 4, `most of the ${wanted} wanted retries were refused`);
  for (let end = 0; end < seconds; end++) {
    let windowRequests = 0;
    let windowRetries = 0;
    for (let second = Math.max(0, end - 9); second <= end; second++) {
      windowRequests += requestsPerSecond[second]!;
      windowRetries += retriesPerSecond[second]!;
    }
    assert.ok(
      windowRetries <= 0.2 * windowRequests + 2 * 10,
      `window ending at ${end} s: ${windowRetries} retries for ${windowRequests} requests`,
    );
  }
});
