/** The unix check against real socket files: missing, stale, not a socket, not permitted, fine. */
import { strict as assert } from 'node:assert';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import { lookupUser } from '../../../src/diagnose/doctor/system/users.js';
import { findingsOf, gatewiseConfig, nginxConfig, problemOf, tempDir, upstream } from './support.js';

const OPTIONS = { checks: ['unix'], timeoutMs: 1000 } as const;

test('a missing socket: critical wrong_upstream_address, with stat() as evidence', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.sock');
  const config = gatewiseConfig(t, { api: { servers: [`unix:${path}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'unix', path);
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'wrong_upstream_address');
  assert.equal(found.title, `no socket at ${path} (ENOENT)`);
  assert.ok(found.evidence.includes(`stat(${path}): ENOENT`));
});

test('a missing socket, and a process listening on another socket in the same folder: named', async (t) => {
  const dir = tempDir(t);
  const real = join(dir, 'backend.sock');
  await upstream(t, 'ok', { unixPath: real });
  const wrong = join(dir, 'app.sock');
  const config = gatewiseConfig(t, { api: { servers: [`unix:${wrong}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'unix', wrong);
  assert.match(
    found.title,
    new RegExp(`^no socket at ${wrong}, but \`.*node.*\` \\(pid ${process.pid}\\) listens on ${real}$`),
  );
  assert.match(found.fix!, new RegExp(`point the server at unix:${real}`));
});

test('a socket file nobody listens on (a crashed backend left it): critical backend_down', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'stale.sock');
  await upstream(t, 'refuse', { unixPath: path });
  const config = gatewiseConfig(t, { api: { servers: [`unix:${path}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'unix', path);
  assert.equal(found.cause, 'backend_down');
  assert.equal(found.title, `${path} exists but no process listens on it`);
  assert.ok(found.evidence.some((line) => line.includes('ECONNREFUSED')));
});

test('a regular file where the socket should be: not a socket', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.sock');
  writeFileSync(path, 'not a socket');
  const config = gatewiseConfig(t, { api: { servers: [`unix:${path}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'unix', path);
  assert.equal(found.title, `${path} is not a socket`);
  assert.equal(found.cause, 'wrong_upstream_address');
});

test('a listening socket: ok, with the process that listens', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.sock');
  await upstream(t, 'ok', { unixPath: path });
  const config = gatewiseConfig(t, { api: { servers: [`unix:${path}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const [found, ...rest] = findingsOf(report, 'unix');
  assert.deepEqual(rest, []);
  assert.equal(found!.severity, 'ok');
  assert.match(
    found!.title,
    new RegExp(`^connect to ${path} took [\\d.]+ ms; \`.*\` \\(pid ${process.pid}\\) listens$`),
  );
});

test("nginx's worker user may not write to the socket: critical permission_or_selinux", async (t) => {
  if (lookupUser('nobody') === undefined) return t.skip('no user "nobody" on this system');
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const path = join(dir, 'php-fpm.sock');
  await upstream(t, 'ok', { unixPath: path });
  chmodSync(path, 0o600);
  const file = nginxConfig(t, `  server { location / { fastcgi_pass unix:${path}; } }`, 'user nobody;');
  const report = await runDoctor({ nginx: file, ...OPTIONS });
  const found = problemOf(report, 'unix', path);
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'permission_or_selinux');
  assert.equal(found.title, `nobody may not connect to ${path}`);
  assert.ok(
    found.evidence.some((line) => line.startsWith(`${path} (mode 0600,`) && line.endsWith('is not writable by nobody')),
  );
});
