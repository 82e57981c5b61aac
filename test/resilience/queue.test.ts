import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { AdmissionQueue, type AdmissionQueueOptions } from '../../src/resilience/index.js';

function queue(options: Partial<AdmissionQueueOptions> = {}): AdmissionQueue<string> {
  return new AdmissionQueue<string>({ max_inflight: 2, queue: 3, queue_timeout: 1000, ...options });
}

test('tryAdmit takes slots up to max_inflight; release gives them back', () => {
  const q = queue();
  assert.equal(q.tryAdmit(), true);
  assert.equal(q.tryAdmit(), true);
  assert.equal(q.tryAdmit(), false);
  assert.equal(q.inflight, 2);
  assert.equal(q.release(0), undefined);
  assert.equal(q.inflight, 1);
  assert.equal(q.tryAdmit(), true);
  q.release(0);
  q.release(0);
  q.release(0); // one release too many never goes below zero
  assert.equal(q.inflight, 0);
});

test('waiters are admitted in FIFO order, each taking over the freed slot', () => {
  const q = queue();
  q.tryAdmit();
  q.tryAdmit();
  assert.equal(q.enqueue('a', 0), true);
  assert.equal(q.enqueue('b', 10), true);
  assert.equal(q.enqueue('c', 20), true);
  assert.equal(q.enqueue('d', 30), false, 'the queue holds three');
  assert.equal(q.length, 3);
  assert.equal(q.release(100), 'a');
  assert.equal(q.lastWaitMs, 100);
  assert.equal(q.inflight, 2, 'the slot passed to a');
  assert.equal(q.release(110), 'b');
  assert.equal(q.lastWaitMs, 100);
  assert.equal(q.release(120), 'c');
  assert.equal(q.release(130), undefined);
  assert.equal(q.inflight, 1);
  assert.equal(q.length, 0);
});

test('a newcomer never overtakes a waiter', () => {
  const q = queue({ max_inflight: 1 });
  q.tryAdmit();
  q.enqueue('waiting', 0);
  assert.equal(q.release(5), 'waiting');
  assert.equal(q.tryAdmit(), false);
});

test('expire removes waiters that waited queue_timeout, oldest first, and keeps the rest', () => {
  const q = queue({ max_inflight: 1, queue: 5 });
  q.tryAdmit();
  q.enqueue('a', 0);
  q.enqueue('b', 300);
  q.enqueue('c', 600);
  const expired: string[] = [];
  const onExpired = (item: string) => expired.push(item);
  q.expire(999, onExpired);
  assert.deepEqual(expired, []);
  q.expire(1300, onExpired);
  assert.deepEqual(expired, ['a', 'b']);
  assert.equal(q.length, 1);
  assert.equal(q.oldestWaitMs(1300), 700);
  assert.equal(q.release(1400), 'c');
  assert.equal(q.oldestWaitMs(1400), 0);
});

test('remove takes out a waiter whose client left, keeping the order of the others', () => {
  const q = queue({ max_inflight: 1, queue: 4 });
  q.tryAdmit();
  // Rotate the ring so that the waiters wrap around its end.
  for (const item of ['x', 'y', 'z']) {
    q.enqueue(item, 0);
    q.release(0);
  }
  for (const item of ['a', 'b', 'c', 'd']) q.enqueue(item, 0);
  assert.equal(q.remove('b'), true);
  assert.equal(q.remove('b'), false);
  assert.equal(q.remove('never'), false);
  assert.equal(q.length, 3);
  assert.equal(q.enqueue('e', 0), true, 'the freed place can be taken');
  assert.deepEqual(
    [q.release(1), q.release(1), q.release(1), q.release(1), q.release(1)],
    ['a', 'c', 'd', 'e', undefined],
  );
});

test('max_inflight 0 means no limit; queue 0 means nobody waits', () => {
  const unlimited = queue({ max_inflight: 0 });
  for (let n = 0; n < 10_000; n++) assert.equal(unlimited.tryAdmit(), true);
  const noQueue = queue({ max_inflight: 1, queue: 0 });
  noQueue.tryAdmit();
  assert.equal(noQueue.enqueue('a', 0), false);
  noQueue.expire(10_000, () => assert.fail('nothing waits'));
  assert.equal(noQueue.release(0), undefined);
});

test('model: any sequence of operations behaves like a plain array queue', () => {
  type Op =
    | { op: 'admit' }
    | { op: 'enqueue' }
    | { op: 'release' }
    | { op: 'expire' }
    | { op: 'remove'; nth: number }
    | { op: 'wait'; ms: number };
  const ops = fc.array(
    fc.oneof(
      fc.constant<Op>({ op: 'admit' }),
      fc.constant<Op>({ op: 'enqueue' }),
      fc.constant<Op>({ op: 'release' }),
      fc.constant<Op>({ op: 'expire' }),
      fc.nat(6).map<Op>((nth) => ({ op: 'remove', nth })),
      fc.integer({ min: 1, max: 400 }).map<Op>((ms) => ({ op: 'wait', ms })),
    ),
    { maxLength: 200 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 5 }), ops, (maxInflight, size, list) => {
      const q = new AdmissionQueue<number>({ max_inflight: maxInflight, queue: size, queue_timeout: 1000 });
      const model: { item: number; at: number }[] = [];
      let inflight = 0;
      let now = 0;
      let next = 0;
      for (const step of list) {
        if (step.op === 'admit') {
          const free = inflight < maxInflight && model.length === 0;
          assert.equal(q.tryAdmit(), free);
          if (free) inflight++;
        } else if (step.op === 'enqueue') {
          const room = model.length < size;
          assert.equal(q.enqueue(next, now), room);
          if (room) model.push({ item: next, at: now });
          next++;
        } else if (step.op === 'release') {
          const head = model.shift();
          assert.equal(q.release(now), head?.item);
          if (head === undefined && inflight > 0) inflight--;
        } else if (step.op === 'expire') {
          const expired: number[] = [];
          q.expire(now, (item) => expired.push(item));
          const due = model.filter((entry) => now - entry.at >= 1000).map((entry) => entry.item);
          model.splice(0, due.length);
          assert.deepEqual(expired, due);
        } else if (step.op === 'remove') {
          const target = model[step.nth]?.item ?? -1;
          assert.equal(q.remove(target), step.nth < model.length);
          if (step.nth < model.length) model.splice(step.nth, 1);
        } else {
          now += step.ms;
        }
        assert.equal(q.length, model.length);
        assert.equal(q.inflight, inflight);
      }
    }),
    { seed: 7, numRuns: 300 },
  );
});
