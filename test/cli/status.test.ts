/**
 * `gatewise status` against a real running service: the table an operator reads, the JSON, the token,
 * and the one-line error when no gateway answers.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCommand } from 'citty';
import statusCommand, { renderStatus, runStatus, type StatusJson } from '../../src/cli/status.js';
import { parseConfigText } from '../../src/config/index.js';
import { Service } from '../../src/service.js';
import { runCli } from '../support/cli.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';

type T = import('node:test').TestContext;

const HEALTH = 'active: { interval: 100ms, timeout: 100ms, unhealthy_after: 1, healthy_after: 1 }';

async function startService(t: T, token = '') {
  const good = await startSwitchUpstream('good');
  t.after(() => good.close());
  const down = await startSwitchUpstream('down');
  t.after(() => down.close());
  down.healthy = false;
  const drained = await startSwitchUpstream('drained');
  t.after(() => drained.close());
  // `solo` keeps one healthy server of three: below its 50% panic threshold.
  const survivor = await startSwitchUpstream('survivor');
  t.after(() => survivor.close());
  const sick = await startSwitchUpstream('sick');
  t.after(() => sick.close());
  sick.healthy = false;
  const lonely = await startSwitchUpstream('lonely');
  t.after(() => lonely.close());
  lonely.healthy = false;
  const config = parseConfigText(
    `listen: [{ address: 127.0.0.1:0 }]
admin: { address: 127.0.0.1:0${token ? `, token: ${token}` : ''} }
log: { access: false, level: error }
upstreams:
  api:
    servers: [{ url: ${good.url} }, { url: ${down.url} }, { url: ${drained.url} }]
    health: { ${HEALTH}, panic_threshold: 0% }
  solo:
    servers: [{ url: ${survivor.url} }, { url: ${sick.url} }, { url: ${lonely.url} }]
    health: { ${HEALTH} }
routes:
  - match: { path: / }
    upstream: api
`,
    'status.yaml',
  );
  const service = new Service({ config });
  await service.start();
  t.after(() => service.stop());
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const admin = `http://${service.adminAddress}`;
  const drain = await fetch(`${admin}/api/upstreams/api/servers/2/drain`, { method: 'POST', headers });
  assert.equal(drain.status, 200);
  // Wait (bounded) until the active checks have marked both failing servers down.
  let json: StatusJson | undefined;
  for (let i = 0; i < 50; i++) {
    json = (await (await fetch(`${admin}/api/status`, { headers })).json()) as StatusJson;
    const servers = json.upstreams.flatMap((u) => u.servers);
    if (servers.filter((s) => s.healthy === false).length === 3) break;
    json = undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(json, 'the active health checks never marked the failing servers down');
  return { service, json, good, down, drained, lonely, survivor };
}

/** The table line of one server. */
function lineOf(text: string, url: string): string {
  const line = text.split('\n').find((l) => l.trimStart().startsWith(url));
  assert.ok(line, `no line for ${url} in:\n${text}`);
  return line;
}

test('the table shows each server under its upstream with its state', async (t) => {
  const { json, good, down, drained, lonely, survivor } = await startService(t);
  const text = renderStatus(json);
  assert.doesNotMatch(text, /\u001b\[/, 'no colours unless asked');
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('server'));
  assert.ok(header);
  for (const column of ['state', 'in-flight', 'req/s', 'errors', 'p50', 'p99']) assert.ok(header.includes(column));
  const api = lines.findIndex((l) => l.startsWith('upstream api'));
  const solo = lines.findIndex((l) => l.startsWith('upstream solo'));
  assert.ok(api >= 0 && solo > api, text);
  assert.match(lines[solo]!, /PANIC/);
  assert.ok(lines.indexOf(lineOf(text, good.url)) > api && lines.indexOf(lineOf(text, good.url)) < solo);
  assert.match(lineOf(text, good.url), / up +0 +- +- +- +-$/);
  assert.match(lineOf(text, down.url), / DOWN /);
  assert.match(lineOf(text, drained.url), / draining /);
  // Too few servers of `solo` are healthy: panic routing uses the down ones anyway.
  assert.match(lineOf(text, lonely.url), / panic /);
  assert.match(lineOf(text, survivor.url), / up /);
  assert.ok(lines.indexOf(lineOf(text, lonely.url)) > solo);
  assert.match(text, /^gatewise: pid \d+/);
});

test('statistics are rendered when the status carries them, and colours only when asked', async (t) => {
  const { json, good, down } = await startService(t);
  const api = json.upstreams.find((u) => u.name === 'api')!;
  api.servers[0]!.stats = { requests_per_s: 12.345, error_ratio: 0.0123, p50_ms: 3.21, p99_ms: 250.4 };
  api.servers[1]!.stats = { requests_per_s: 0, error_ratio: 0, p50_ms: null, p99_ms: null };
  const text = renderStatus(json);
  assert.match(lineOf(text, good.url), / up +0 +12\.35 +1\.2% +3\.2ms +250ms$/);
  assert.match(lineOf(text, down.url), / DOWN +0 +0 +0% +- +-$/);
  const coloured = renderStatus(json, { color: true });
  assert.match(coloured, /\u001b\[32mup +\u001b\[0m/);
  assert.match(coloured, /\u001b\[31mDOWN +\u001b\[0m/);
  assert.match(coloured, /\u001b\[33mdraining *\u001b\[0m/);
});

test('runStatus prints the table, or the JSON, from a live admin API; a token is sent when given', async (t) => {
  const { service, good } = await startService(t, 'sesame');
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
  const request = { admin: service.adminAddress, token: 'sesame', json: false, color: false };
  assert.equal(await runStatus(request, io), 0);
  assert.deepEqual(err, []);
  assert.match(lineOf(out.join(''), good.url), / up /);

  out.length = 0;
  assert.equal(await runStatus({ ...request, json: true }, io), 0);
  const parsed = JSON.parse(out.join('')) as StatusJson;
  assert.deepEqual(
    parsed.upstreams.map((u) => u.name),
    ['api', 'solo'],
  );

  out.length = 0;
  assert.equal(await runStatus({ ...request, token: 'wrong' }, io), 1);
  assert.deepEqual(out, []);
  assert.equal(err.length, 1);
  assert.match(err[0]!, /HTTP 401 .*token/);

  // --config: the admin address and token come from the file.
  const dir = await mkdtemp(join(tmpdir(), 'gatewise-status-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'gatewise.yaml');
  await writeFile(
    file,
    `listen: [{ address: 127.0.0.1:0 }]\nadmin: { address: ${service.adminAddress}, token: sesame }\nupstreams:\n  api: { servers: [{ url: ${good.url} }] }\nroutes:\n  - match: { path: / }\n    upstream: api\n`,
  );
  const written = captureStdout(t);
  const { result } = await runCommand(statusCommand, { rawArgs: ['--config', file] });
  assert.equal(result, 0);
  assert.match(lineOf(written.join(''), good.url), / up /);
});

test('an unreachable admin API is one line on stderr and exit 1', async (t) => {
  const port = await closedPort();
  const err: string[] = [];
  const out: string[] = [];
  const code = await runStatus(
    { admin: `127.0.0.1:${port}`, token: '', json: false, color: false },
    { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
  );
  assert.equal(code, 1);
  assert.deepEqual(out, []);
  assert.equal(err.length, 1);
  assert.match(
    err[0]!,
    new RegExp(`^gatewise status: cannot reach the admin API at 127\\.0\\.0\\.1:${port}: ECONNREFUSED\\n$`),
  );

  // The command itself, as `gatewise status --admin ...` runs it.
  const written = captureStderr(t);
  const { result } = await runCommand(statusCommand, { rawArgs: ['--admin', `127.0.0.1:${port}`] });
  assert.equal(result, 1);
  assert.equal(written.join('').split('\n').filter(Boolean).length, 1);
  assert.match(written.join(''), /ECONNREFUSED/);
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function captureStdout(t: T): string[] {
  return capture(t, process.stdout);
}

function captureStderr(t: T): string[] {
  return capture(t, process.stderr);
}

/** Collects what the command writes to a process stream (restored after the test, even on failure). */
function capture(t: T, stream: NodeJS.WriteStream): string[] {
  const written: string[] = [];
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof stream.write;
  t.after(() => {
    stream.write = original;
  });
  return written;
}

test('pending and firing alerts are listed under the table', async (t) => {
  const { json } = await startService(t);
  assert.deepEqual(json.alerts, [], 'the default rules wait (for:) before anything is pending');
  assert.match(renderStatus(json), /\nalerts: none firing\n$/);
  json.alerts = [
    {
      name: 'GatewiseUpstreamDown',
      state: 'firing',
      severity: 'critical',
      labels: { upstream: 'api' },
      summary: 'Upstream api has no available server',
    },
    { name: 'Slow', state: 'pending', severity: 'warning', labels: { upstream: 'api', server: '10.0.0.1:80' } },
  ];
  const text = renderStatus(json);
  assert.match(text, /\n {2}FIRING {3}GatewiseUpstreamDown \(critical\) api: Upstream api has no available server\n/);
  assert.match(text, /\n {2}PENDING {2}Slow \(warning\) api \/ 10\.0\.0\.1:80\n$/);
  assert.match(renderStatus(json, { color: true }), /\u001b\[31mFIRING \u001b\[0m/);
});

test("`gatewise status --config` also takes a cluster node's own file (its admin section)", async (t) => {
  const { service } = await startService(t);
  const dir = await mkdtemp(join(tmpdir(), 'gatewise-status-node-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'gw1.yaml');
  await writeFile(
    file,
    `listen: [{ address: 127.0.0.1:0 }]
admin: { address: ${service.adminAddress} }
cluster: { etcd: { endpoints: [http://127.0.0.1:9] } }
`,
  );
  const result = await runCli(['status', '--config', file, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((JSON.parse(result.stdout) as StatusJson).pid, process.pid);
});
