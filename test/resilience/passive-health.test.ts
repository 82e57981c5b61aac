import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { OutlierDetector, type PassiveHealthOptions, p99Above } from '../../src/resilience/index.js';
import { type FakeTime, recorder } from './events.js';

const BASE: PassiveHealthOptions = {
  failures: 3,
  window: 10_000,
  eject_for: 30_000,
  max_eject_for: 70_000,
  max_ejected_percent: 1,
};

function detector(options: Partial<PassiveHealthOptions> = {}, servers = ['a', 'b', 'c', 'd']) {
  const time: FakeTime = { now: 1_000_000 };
  const { events, sink } = recorder();
  const outliers = new OutlierDetector('api', servers, { ...BASE, ...options }, time, sink);
  return { time, events, outliers };
}

function fail(outliers: OutlierDetector, index: number, times: number): void {
  for (let n = 0; n < times; n++) outliers.recordFailure(index);
}

test('consecutive failures within the window eject the server, with an event', () => {
  const { time, events, outliers } = detector();
  fail(outliers, 1, 2);
  assert.equal(outliers.isEjected(1), false);
  time.now += 100;
  outliers.recordFailure(1);
  assert.equal(outliers.isEjected(1), true);
  assert.equal(outliers.state(1), 'ejected');
  assert.equal(outliers.isEjected(0), false);
  assert.equal(outliers.ejectedCount, 1);
  assert.deepEqual(events, [
    {
      kind: 'ejected',
      upstream: 'api',
      server: 'b',
      atMs: time.now,
      from: 'healthy',
      to: 'ejected',
      reason: 'consecutive_failures',
      untilMs: time.now + 30_000,
      ejections: 1,
    },
  ]);
  assert.equal(outliers.ejectedUntilMs(1), time.now + 30_000);
  assert.equal(outliers.ejectedUntilMs(0), 0);
});

test('a success between failures starts the count over', () => {
  const { outliers, events } = detector();
  fail(outliers, 0, 2);
  outliers.recordSuccess(0, 5);
  fail(outliers, 0, 2);
  assert.equal(outliers.isEjected(0), false);
  outliers.recordFailure(0);
  assert.equal(outliers.isEjected(0), true);
  assert.equal(events.length, 1);
});

test('the window slides: only the last `failures` failures must fit in it', () => {
  const { time, outliers } = detector();
  const start = time.now;
  for (const offset of [0, 6000, 12_000]) {
    time.now = start + offset;
    outliers.recordFailure(0);
  }
  // 0 → 12 s spans more than the 10 s window.
  assert.equal(outliers.isEjected(0), false);
  time.now = start + 13_000;
  outliers.recordFailure(0);
  // 6 s, 12 s and 13 s fit in 10 s.
  assert.equal(outliers.isEjected(0), true);
});

test('an ejection ends on tick with a restored event; the server is then on probation', () => {
  const { time, events, outliers } = detector();
  fail(outliers, 2, 3);
  const until = outliers.ejectedUntilMs(2);
  time.now = until - 1;
  outliers.tick(time.now);
  assert.equal(outliers.isEjected(2, time.now), true);
  time.now = until;
  outliers.tick(time.now);
  assert.equal(outliers.state(2), 'probation');
  assert.equal(outliers.ejectedCount, 0);
  assert.deepEqual(events.at(-1), {
    kind: 'restored',
    upstream: 'api',
    server: 'c',
    atMs: until,
    from: 'ejected',
    to: 'probation',
    reason: 'ejection_expired',
  });
  outliers.tick(time.now + 1000);
  assert.equal(events.length, 2, 'a restored server is restored once');
});

test('isEjected ends an ejection that has run out even before the sweep', () => {
  const { time, events, outliers } = detector();
  fail(outliers, 0, 3);
  time.now += 30_000;
  assert.equal(outliers.isEjected(0, time.now), false);
  assert.equal(events.at(-1)?.kind, 'restored');
});

test('on probation a success recovers the server and resets the count', () => {
  const { time, events, outliers } = detector();
  fail(outliers, 0, 3);
  time.now += 30_000;
  outliers.tick(time.now);
  outliers.recordSuccess(0, 10);
  assert.equal(outliers.state(0), 'healthy');
  assert.deepEqual(events.at(-1), {
    kind: 'recovered',
    upstream: 'api',
    server: 'a',
    atMs: time.now,
    from: 'probation',
    to: 'healthy',
    reason: 'success',
  });
  fail(outliers, 0, 2);
  assert.equal(outliers.isEjected(0), false);
});

test('on probation one failure ejects again, for longer', () => {
  const { time, events, outliers } = detector();
  fail(outliers, 0, 3);
  time.now += 30_000;
  outliers.tick(time.now);
  outliers.recordFailure(0);
  assert.equal(outliers.isEjected(0), true);
  const ejected = events.at(-1);
  assert.equal(ejected?.kind, 'ejected');
  if (ejected?.kind !== 'ejected') return;
  assert.equal(ejected.from, 'probation');
  assert.equal(ejected.ejections, 2);
  assert.equal(ejected.untilMs, time.now + 60_000);
});

test('ejections in a row grow as eject_for × n and stop at max_eject_for', () => {
  const { time, events, outliers } = detector();
  const lengths: number[] = [];
  fail(outliers, 0, 3);
  for (let round = 0; round < 5; round++) {
    const ejected = events.at(-1);
    assert.equal(ejected?.kind, 'ejected');
    if (ejected?.kind !== 'ejected') return;
    lengths.push(ejected.untilMs - ejected.atMs);
    time.now = ejected.untilMs;
    outliers.tick(time.now);
    outliers.recordFailure(0); // on probation: ejected again at once
  }
  assert.deepEqual(lengths, [30_000, 60_000, 70_000, 70_000, 70_000]);
});

test('the growth decays: max_eject_for after the last ejection ended, the next one is short again', () => {
  for (const [quietMs, expected] of [
    [69_999, 60_000],
    [70_000, 30_000],
  ] as const) {
    const { time, events, outliers } = detector();
    fail(outliers, 0, 3);
    time.now = outliers.ejectedUntilMs(0);
    outliers.tick(time.now);
    outliers.recordSuccess(0, 1);
    time.now += quietMs;
    fail(outliers, 0, 3);
    const ejected = events.at(-1);
    assert.equal(ejected?.kind, 'ejected');
    if (ejected?.kind === 'ejected') assert.equal(ejected.untilMs - ejected.atMs, expected, `after ${quietMs} ms`);
  }
});

test('outcomes reported while ejected change nothing', () => {
  const { time, events, outliers } = detector();
  fail(outliers, 0, 3);
  const until = outliers.ejectedUntilMs(0);
  time.now += 1000;
  fail(outliers, 0, 10);
  outliers.recordSuccess(0, 1);
  assert.equal(outliers.ejectedUntilMs(0), until);
  assert.equal(outliers.state(0), 'ejected');
  assert.equal(events.length, 1);
});

test('max_ejected_percent bounds the servers out at once; the ejection past it is skipped with an event', () => {
  const { time, events, outliers } = detector({ max_ejected_percent: 0.5 });
  assert.equal(outliers.ejectionLimit, 2);
  fail(outliers, 0, 3);
  fail(outliers, 1, 3);
  fail(outliers, 2, 3);
  assert.equal(outliers.isEjected(2), false);
  assert.equal(outliers.ejectedCount, 2);
  assert.deepEqual(events.at(-1), {
    kind: 'ejection_skipped',
    upstream: 'api',
    server: 'c',
    atMs: time.now,
    reason: 'max_ejected_percent',
    ejected: 2,
    limit: 2,
  });
  // The streak starts over: the next report needs another full run of failures.
  fail(outliers, 2, 2);
  assert.equal(events.length, 3);
  outliers.recordFailure(2);
  assert.equal(events.length, 4);
  // Once one ejection ends there is room again.
  time.now = outliers.ejectedUntilMs(0);
  fail(outliers, 2, 3);
  assert.equal(outliers.isEjected(2), true);
  assert.deepEqual(
    events.slice(-2).map((event) => event.kind),
    ['restored', 'ejected'],
  );
});

test('max_ejected_percent rounds down: a lone server or a zero fraction is never ejected', () => {
  for (const [servers, fraction] of [
    [['only'], 0.5],
    [['a', 'b', 'c'], 0],
  ] as const) {
    const { events, outliers } = detector({ max_ejected_percent: fraction }, [...servers]);
    assert.equal(outliers.ejectionLimit, 0);
    fail(outliers, 0, 3);
    assert.equal(outliers.isEjected(0), false);
    assert.equal(events[0]?.kind, 'ejection_skipped');
  }
  assert.equal(
    detector({ max_ejected_percent: 0.3 }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']).outliers.ejectionLimit,
    3,
  );
});

test('p99Above agrees with a sorted nearest-rank p99 for every count up to 300', () => {
  for (let samples = 1; samples <= 300; samples++) {
    for (let slow = 0; slow <= samples; slow++) {
      // `slow` samples of 2 above a threshold of 1, the rest 0.
      const sorted = [...new Array<number>(samples - slow).fill(0), ...new Array<number>(slow).fill(2)];
      const p99 = sorted[Math.ceil((samples * 99) / 100) - 1]!;
      assert.equal(p99Above(samples, slow), p99 > 1, `${slow} slow of ${samples}`);
    }
  }
});

test('latency: a p99 above the limit ejects once min_requests samples are in', () => {
  const { time, events, outliers } = detector({ latency: { p99_above: 100, min_requests: 100, window: 10_000 } });
  for (let n = 0; n < 97; n++) outliers.recordSuccess(0, 20);
  outliers.recordSuccess(0, 500);
  outliers.recordSuccess(0, 500);
  assert.equal(outliers.isEjected(0), false, '99 samples are fewer than min_requests');
  outliers.recordSuccess(0, 20);
  // 100 samples, 2 above 100 ms: the 99th smallest is slow.
  assert.equal(outliers.isEjected(0), true);
  const ejected = events.at(-1);
  assert.equal(ejected?.kind === 'ejected' && ejected.reason, 'latency_p99');
  // The samples were spent on that ejection: back on probation, fast answers recover it.
  time.now = outliers.ejectedUntilMs(0);
  for (let n = 0; n < 100; n++) outliers.recordSuccess(0, 20);
  assert.equal(outliers.state(0), 'healthy');
});

test('latency: one slow answer in a hundred is within p99, and slow samples age out of the window', () => {
  const { time, outliers } = detector({ latency: { p99_above: 100, min_requests: 100, window: 10_000 } });
  outliers.recordSuccess(0, 900);
  for (let n = 0; n < 99; n++) outliers.recordSuccess(0, 20);
  assert.equal(outliers.isEjected(0), false);
  time.now += 5000;
  outliers.recordSuccess(0, 900);
  outliers.recordSuccess(0, 900);
  assert.equal(outliers.isEjected(0), true);

  const later = detector({ latency: { p99_above: 100, min_requests: 10, window: 10_000 } });
  for (let n = 0; n < 2; n++) later.outliers.recordSuccess(1, 900);
  later.time.now += 11_000;
  for (let n = 0; n < 100; n++) later.outliers.recordSuccess(1, 20);
  assert.equal(later.outliers.isEjected(1), false, 'slow samples older than the window no longer count');
});

test('without a latency rule slow successes never eject', () => {
  const { outliers } = detector();
  for (let n = 0; n < 1000; n++) outliers.recordSuccess(0, 60_000);
  assert.equal(outliers.isEjected(0), false);
});
