/** The `gatewise` binary as users run it: check, serve, reload (SIGHUP and command), graceful stop. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { runCli, startCli } from '../support/cli.js';
import { freePort } from '../support/nginx.js';
import { get } from '../support/raw-client.js';

function tempDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function configText(port: number, adminPort: number, upstreamUrl: string, extra = ''): string {
  return `listen:
  - address: 127.0.0.1:${port}
admin:
  address: 127.0.0.1:${adminPort}
log: { format: json }
upstreams:
  api:
    servers:
      - url: ${upstreamUrl}
${extra}
routes:
  - match: { path: / }
    upstream: api
`;
}

test('check: exit 0 on a valid file, exit 1 with every problem as file:line:col', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, configText(8080, 9090, 'http://127.0.0.1:5001'));
  const ok = await runCli(['check', '--config', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /configuration is valid/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    `listen:
  - address: 127.0.0.1:8080
  - address: 127.0.0.1:8080
upstreams:
  api:
    servers:
      - url: ftp://127.0.0.1:5001
    ballance: round_robin
    timeouts: { connect: fast }
routes:
  - match: { path: / }
    upstream: apii
`,
  );
  const res = await runCli(['check', '--config', bad]);
  assert.equal(res.code, 1);
  const lines = res.stderr.trim().split('\n');
  assert.ok(
    lines.some((l) => /^.*bad\.yaml:8:5: unknown key "ballance" \(did you mean "balance"\?\)$/.test(l)),
    res.stderr,
  );
  assert.ok(
    lines.some((l) => /bad\.yaml:12:15: .*"apii".*did you mean "api"/.test(l)),
    res.stderr,
  );
  assert.ok(
    lines.some((l) => /bad\.yaml:3:\d+: .*(duplicate|already)/i.test(l)),
    res.stderr,
  );
  assert.ok(
    lines.some((l) => /bad\.yaml:7:\d+: .*(scheme|url|URL)/.test(l)),
    res.stderr,
  );
  assert.ok(
    lines.some((l) => /bad\.yaml:9:\d+: .*duration/.test(l)),
    res.stderr,
  );
});

test('serve: proxies, reloads on SIGHUP, refuses a bad reload and keeps serving, stops on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const a = await startUpstream('ok', { name: 'a' });
  const b = await startUpstream('ok', { name: 'b' });
  t.after(() => a.close());
  t.after(() => b.close());
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(dir, 'gatewise.yaml');
  writeFileSync(file, configText(port, adminPort, a.url));
  const gw = startCli(['serve', '--config', file]);
  t.after(() => gw.stop('SIGKILL'));
  await gw.waitFor(/gatewise started/);

  const first = await get(port, '/echo');
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-server'), 'a');

  // SIGHUP: the new file points at b.
  writeFileSync(file, configText(port, adminPort, b.url));
  gw.child.kill('SIGHUP');
  await gw.waitFor(/configuration reloaded/);
  assert.equal((await get(port, '/echo')).headers.get('x-server'), 'b');

  // `gatewise reload` with a broken file: refused with its problems, the running config stays.
  writeFileSync(file, `${configText(port, adminPort, a.url)}\nbogus_key: 1\n`);
  const reload = await runCli(['reload', '--admin', `127.0.0.1:${adminPort}`]);
  assert.equal(reload.code, 1);
  assert.match(reload.stderr, /gatewise\.yaml:\d+:\d+: unknown key "bogus_key"/);
  assert.equal((await get(port, '/echo')).headers.get('x-server'), 'b');

  // A good file through the command.
  writeFileSync(file, configText(port, adminPort, a.url));
  const reload2 = await runCli(['reload', '--admin', `127.0.0.1:${adminPort}`]);
  assert.equal(reload2.code, 0, reload2.stderr);
  assert.equal((await get(port, '/echo')).headers.get('x-server'), 'a');

  assert.equal(await gw.stop('SIGTERM'), 0);
  // Access records are JSON lines with the fields operators rely on.
  const access = gw
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"access"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(access.length >= 4, gw.output());
  for (const key of [
    'request_id',
    'client',
    'method',
    'host',
    'path',
    'status',
    'bytes',
    'duration_ms',
    'route',
    'upstream',
    'server',
    'attempts',
  ]) {
    assert.ok(key in access[0]!, `access record lacks ${key}`);
  }
});

test('serve: an upstream failure writes an error record with errno, phase, server and attempt', async (t) => {
  const dir = tempDir(t);
  const refused = await startUpstream('refuse');
  t.after(() => refused.close());
  const port = await freePort();
  const file = join(dir, 'gatewise.yaml');
  writeFileSync(file, configText(port, await freePort(), refused.url, '    retries: { attempts: 1 }'));
  const gw = startCli(['serve', '--config', file]);
  t.after(() => gw.stop('SIGKILL'));
  await gw.waitFor(/gatewise started/);
  const reply = await get(port, '/');
  assert.equal(reply.status, 502);
  assert.equal(await gw.stop('SIGTERM'), 0);
  const errors = gw
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"upstream failure"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(errors.length, 1, gw.output());
  assert.equal(errors[0]!.code, 'ECONNREFUSED');
  assert.equal(errors[0]!.phase, 'connect');
  assert.equal(errors[0]!.server, `127.0.0.1:${refused.port}`);
  assert.equal(errors[0]!.attempt, 1);
  assert.equal(errors[0]!.proxy_status, 'connection_refused');
  assert.equal(errors[0]!.cause, 'backend_down');
  const access = gw
    .output()
    .split('\n')
    .find((l) => l.includes('"msg":"access"'));
  assert.match(access!, /"status":502/);
  assert.match(access!, /"proxy_status":"connection_refused"/);
});

test('serve: an invalid config does not start, and says where the problem is', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gatewise.yaml');
  writeFileSync(file, 'listen: []\nupstreams: {}\nroutes: []\n');
  const res = await runCli(['serve', '--config', file]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /gatewise\.yaml:\d+:\d+: /);
});
