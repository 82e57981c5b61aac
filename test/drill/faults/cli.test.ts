/** `gatewise faults` as users run it: proxies from a -config style file, the API, a clean stop. */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { runCli, startCli } from '../../support/cli.js';
import { exchange, startTcpUpstream } from './helpers.js';

function tempFile(t: TestContext, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('gatewise faults serves the proxies of its config and stops on SIGTERM', async (t) => {
  const upstream = await startTcpUpstream(t, (socket) => socket.end('hello from upstream'));
  const config = tempFile(
    t,
    'toxiproxy.json',
    JSON.stringify([
      { name: 'web_dev_frontend_1', listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstream.port}`, enabled: true },
      { name: 'web_dev_mysql_1', listen: '127.0.0.1:0', upstream: '127.0.0.1:1', enabled: false },
    ]),
  );
  const cli = startCli(['faults', '--listen', '127.0.0.1:0', '--config', config]);
  t.after(() => cli.stop('SIGKILL'));
  await cli.waitFor(/proxy web_dev_mysql_1: .*\(disabled\)\n/);
  const controlUrl = /control API on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output())![1]!;
  const port = Number(/proxy web_dev_frontend_1: 127\.0\.0\.1:(\d+) -> /.exec(cli.output())![1]);

  const proxies = (await (await fetch(`${controlUrl}/proxies`)).json()) as Record<string, { enabled: boolean }>;
  assert.deepEqual(Object.keys(proxies).sort(), ['web_dev_frontend_1', 'web_dev_mysql_1']);
  const toxic = await fetch(`${controlUrl}/proxies/web_dev_frontend_1/toxics`, {
    method: 'POST',
    body: JSON.stringify({ type: 'limit_data', attributes: { bytes: 5 } }),
  });
  assert.equal(toxic.status, 200);
  assert.equal((await exchange(t, port, undefined).done).bytes.toString(), 'hello');

  assert.equal(await cli.stop('SIGTERM'), 0);
});

test('gatewise faults refuses a broken config with exit 1 and the reason', async (t) => {
  const notJson = tempFile(t, 'broken.json', '[{"name": ');
  const broken = await runCli(['faults', '--listen', '127.0.0.1:0', '--config', notJson]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /cannot read .*broken\.json/);

  const missing = tempFile(t, 'missing.json', JSON.stringify([{ name: 'a', upstream: 'x:1' }, { name: 'b' }]));
  const invalid = await runCli(['faults', '--listen', '127.0.0.1:0', '--config', missing]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /missing required field: upstream at proxy 2/);
});
