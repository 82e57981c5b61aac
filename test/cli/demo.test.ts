/**
 * `gatewise serve` with no config: the built-in demo on its fixed ports, with real managed backend processes.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startCli } from '../support/cli.js';
import { delay } from '../support/load.js';
import { get } from '../support/raw-client.js';

interface DemoProcess {
  server: string;
  state: string;
  restarts: number;
  last_exit: { reason: string; cause: string } | null;
}

/** Polls the demo's /api/processes until `check` holds (bounded). */
async function processesUntil(check: (list: DemoProcess[]) => boolean, what: string): Promise<DemoProcess[]> {
  for (let i = 0; i < 100; i++) {
    const reply = await fetch('http://127.0.0.1:9090/api/processes').catch(() => null);
    const list = reply?.status === 200 ? ((await reply.json()) as DemoProcess[]) : [];
    if (check(list)) return list;
    await delay(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the demo serves two managed backends, explains a crash, brings the backend back, and stops with its children', async (t) => {
  const demo = startCli(['serve', '--log-format', 'json']);
  // SIGTERM so that the demo stops its managed backends even when the test fails (SIGKILL after 10 s).
  t.after(async () => {
    const timer = setTimeout(() => demo.child.kill('SIGKILL'), 10000);
    await demo.stop('SIGTERM');
    clearTimeout(timer);
  });
  await demo.waitFor(/Gatewise demo is running/);
  await demo.waitFor(/listening on 127\.0\.0\.1:5002/);
  await demo.waitFor(/listening on 127\.0\.0\.1:5001/);
  // Managed servers: traffic goes to them once their health check passes.
  await processesUntil((list) => list.length === 2 && list.every((p) => p.state === 'ready'), 'both ready');

  const first = JSON.parse((await get(8080, '/')).body) as { instance: string };
  const second = JSON.parse((await get(8080, '/')).body) as { instance: string };
  assert.deepEqual([first.instance, second.instance].sort(), ['a', 'b'], 'round robin over two backends');

  const crash = await get(8080, '/crash', { Accept: 'application/json' });
  assert.equal(crash.status, 502);
  const problem = JSON.parse(crash.body) as Record<string, unknown>;
  assert.equal(problem.cause, 'crash_or_oom');
  // Verbose in the demo: the server is named.
  assert.match(String(problem.server), /^127\.0\.0\.1:500[12]$/);

  const status = await get(9090, '/api/status');
  assert.equal(status.status, 200);
  // The crashed backend is brought back, and its exit is named. (The request may have crashed the
  // other one too: a connection closed without an answer on a reused keep-alive connection is
  // retried once on a fresh one, as nginx does.)
  const back = await processesUntil(
    (list) => list.some((p) => p.server === problem.server && p.restarts === 1 && p.state === 'ready'),
    'restart',
  );
  const crashed = back.find((p) => p.server === problem.server)!;
  assert.deepEqual(crashed.last_exit && [crashed.last_exit.reason, crashed.last_exit.cause], [
    'crashed',
    'crash_or_oom',
  ]);

  assert.equal(await demo.stop('SIGTERM'), 0);
  // The backends went with it: the ports refuse.
  await assert.rejects(get(5001, '/health'));
  await assert.rejects(get(5002, '/health'));
});
