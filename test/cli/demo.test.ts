/**
 * `gatewise serve` with no config: the built-in demo on its fixed ports, with real backend processes.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startCli } from '../support/cli.js';
import { get } from '../support/raw-client.js';

test('the demo serves two backends, explains a crash, and stops cleanly with its children', async (t) => {
  const demo = startCli(['serve', '--log-format', 'json']);
  t.after(() => demo.stop('SIGKILL'));
  await demo.waitFor(/Gatewise demo is running/);
  await demo.waitFor(/listening on 127\.0\.0\.1:5002/);
  await demo.waitFor(/listening on 127\.0\.0\.1:5001/);

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

  assert.equal(await demo.stop('SIGTERM'), 0);
  // The backends went with it: the ports refuse.
  await assert.rejects(get(5001, '/health'));
  await assert.rejects(get(5002, '/health'));
});
