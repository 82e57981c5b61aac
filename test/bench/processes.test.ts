import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError } from '../../bench/lib/errors.js';
import { isSameProcess, processTree, processTreeStats } from '../../bench/lib/proc.js';
import { freePort, ProcessGroup, waitUntilReady } from '../../bench/lib/processes.js';

test('stop ends a child and the children it started', async (t) => {
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  // The shell ignores SIGTERM, so stop() has to fall back to killing the whole tree.
  const shell = group.spawn('tree', 'sh', ['-c', "trap '' TERM; sleep 30 & sleep 30 & wait"], { cpus: '0' });
  for (let i = 0; i < 100 && processTree(shell.pid).length < 3; i++) await sleep(20);
  const tree = processTreeStats(shell.pid);
  assert.equal(tree.length, 3);
  await group.stop(shell, 200);
  assert.equal(shell.running, false);
  for (const stat of tree) assert.equal(isSameProcess(stat.pid, stat.startTimeTicks), false, `pid ${stat.pid} left`);
});

test('children run pinned to the given CPU', async (t) => {
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  const { stdout, exit } = await group.run('affinity', 'sh', ['-c', 'grep Cpus_allowed_list /proc/self/status'], {
    cpus: '0',
    timeoutMs: 5000,
  });
  assert.equal(exit.code, 0);
  assert.match(stdout, /Cpus_allowed_list:\s+0\s*$/);
});

test('run kills a command that overruns its time', async (t) => {
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  const { exit } = await group.run('slow', 'sleep', ['30'], { cpus: '0', timeoutMs: 100 });
  assert.equal(exit.signal, 'SIGTERM');
});

test('waitUntilReady reports a child that exits, with its last stderr line', async (t) => {
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  const child = group.spawn('broken', 'sh', ['-c', 'echo first >&2; echo "bind failed" >&2; exit 3'], { cpus: '0' });
  await assert.rejects(
    waitUntilReady(child, async () => false, 5000),
    (err: unknown) =>
      err instanceof BenchError &&
      err.code === 'GW_BENCH_START' &&
      err.message === 'broken exited (code 3): bind failed',
  );
});

test('waitUntilReady gives up after its timeout and resolves once the probe succeeds', async (t) => {
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  const child = group.spawn('idle', 'sleep', ['30'], { cpus: '0' });
  await assert.rejects(
    waitUntilReady(child, async () => false, 150),
    /did not answer within 150 ms/,
  );
  let calls = 0;
  await waitUntilReady(child, async () => ++calls === 3, 5000);
  assert.equal(calls, 3);
});

test('freePort returns a port that can be bound', async (t) => {
  const port = await freePort();
  const server = createServer();
  t.after(() => server.close());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  assert.equal((server.address() as { port: number }).port, port);
});

test('close stops every member and refuses new ones', async (t) => {
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  const a = group.spawn('a', 'sleep', ['30'], { cpus: '0' });
  const b = group.spawn('b', 'sleep', ['30'], { cpus: '1' });
  await group.close();
  assert.equal(group.closed, true);
  assert.equal(a.running, false);
  assert.equal(b.running, false);
  assert.throws(
    () => group.spawn('c', 'sleep', ['30'], { cpus: '0' }),
    (err: unknown) => err instanceof BenchError && err.code === 'GW_BENCH_CHILD',
  );
});
