/**
 * `gatewise serve --workers N`: a real primary process and its real worker processes on loopback,
 * with real backends. The primary runs health checks, the admin API and alerts; the workers serve.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { request } from 'undici';
import { runCli, startCli } from '../support/cli.js';
import { etcdAvailable, startEtcd } from '../support/etcd.js';
import { load } from '../support/load.js';
import { freePort } from '../support/nginx.js';
import { type SwitchUpstream, startSwitchUpstream } from '../support/switch-upstream.js';
import { makeNode, push } from './nodes.js';

interface Node {
  port: number;
  admin: string;
  file: string;
  cli: ReturnType<typeof startCli>;
}

async function startNode(
  t: TestContext,
  body: (port: number, admin: number) => string,
  env?: NodeJS.ProcessEnv,
): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-workers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(dir, 'gatewise.yaml');
  writeFileSync(file, body(port, adminPort));
  const cli = startCli(['serve', '--config', file, '--workers', '2'], env);
  t.after(() => cli.stop('SIGKILL'));
  await cli.waitFor(/gatewise started/, 15000);
  return { port, admin: `http://127.0.0.1:${adminPort}`, file, cli };
}

function config(port: number, admin: number, servers: SwitchUpstream[], extra = ''): string {
  return `listen: [{ address: 127.0.0.1:${port} }]
admin: { address: 127.0.0.1:${admin} }
log: { access: false }
upstreams:
  app:
    servers: [${servers.map((s) => `{ url: "${s.url}" }`).join(', ')}]
    health:
      active: { path: /health, interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 }
${extra}`;
}

const ROUTE = `routes:
  - match: { path: / }
    upstream: app
`;

async function status(admin: string): Promise<Status> {
  const res = await request(`${admin}/api/status`);
  return (await res.body.json()) as Status;
}

async function metric(admin: string, pattern: RegExp): Promise<number> {
  const text = await (await request(`${admin}/metrics`)).body.text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? Number.NaN : Number(line.split(' ').at(-1));
}

interface Status {
  workers: Array<{ pid: number; requests: number | null }>;
  worker_restarts: number;
  upstreams: Array<{ servers: Array<{ healthy: boolean; available: boolean; draining: boolean }> }>;
}

test('two workers share the listener; /metrics, status and recent failures cover both', async (t) => {
  // Node's round robin (the primary deals connections out in turn) makes the spread certain; the
  // default leaves it to the kernel, which is faster but may give 8 connections to one worker.
  const a = await startSwitchUpstream('a');
  t.after(() => a.close());
  const refused = await freePort();
  const node = await startNode(
    t,
    (port, admin) =>
      config(
        port,
        admin,
        [a],
        `  down:
    servers: [{ url: "http://127.0.0.1:${refused}" }]
    retries: { attempts: 1 }
${ROUTE}  - match: { path: /down }
    upstream: down
`,
      ),
    { NODE_CLUSTER_SCHED_POLICY: 'rr' },
  );
  const origin = `http://127.0.0.1:${node.port}`;
  const result = await load(origin, { requests: 400, concurrency: 8 });
  assert.deepEqual(result.errors, []);
  assert.ok(result.statuses.every((s) => s === 200));
  // Every request is counted once, whichever worker served it (a fresh scrape asks each worker).
  assert.equal(await metric(node.admin, /^gatewise_requests_total\{.*code_class="2xx"/), 400);
  // Both workers served some; reports come every second.
  const served = (s: Status | undefined) => (s?.workers ?? []).reduce((n, w) => n + (w.requests ?? 0), 0);
  let seen: Status | undefined;
  for (let i = 0; i < 40 && served(seen) !== 400; i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await status(node.admin);
  }
  assert.equal(served(seen), 400);
  assert.equal(seen!.workers.length, 2);
  assert.notEqual(seen!.workers[0]!.pid, seen!.workers[1]!.pid);
  for (const w of seen!.workers) assert.ok((w.requests ?? 0) > 0, `worker ${w.pid} served ${w.requests}`);
  // A failure in a worker is found by its request id at the primary's admin API.
  const res = await request(`${origin}/down`);
  await res.body.text();
  assert.equal(res.statusCode, 502);
  const id = String(res.headers['x-request-id']);
  let found: Array<{ request_id: string; upstream: string }> = [];
  for (let i = 0; i < 50 && found.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const r = await request(`${node.admin}/api/failures/${id}`);
    const body = await r.body.text();
    found = r.statusCode === 200 ? (JSON.parse(body) as typeof found) : [];
  }
  assert.equal(found[0]?.request_id, id);
  assert.equal(found[0]?.upstream, 'down');
});

test('health checks run once, in the primary, and the workers follow: unhealthy, drained, back', async (t) => {
  const a = await startSwitchUpstream('a');
  const b = await startSwitchUpstream('b');
  t.after(() => Promise.all([a.close(), b.close()]));
  const node = await startNode(t, (port, admin) => config(port, admin, [a, b], ROUTE));
  const origin = `http://127.0.0.1:${node.port}`;
  const bodies = async (n: number) => (await load(origin, { requests: n, concurrency: 4 })).bodies;
  assert.ok((await bodies(40)).includes('b\n'));
  // One probe stream per node, not one per process: every 100 ms is about 20 in 2 s (three
  // processes probing would make about 60).
  const probesBefore = a.probes;
  await new Promise((r) => setTimeout(r, 2000));
  const probes = a.probes - probesBefore;
  assert.ok(probes >= 5 && probes <= 30, `${probes} probes of a in 2 s`);
  b.healthy = false;
  for (let i = 0; i < 50; i++) {
    const s: Status = await status(node.admin);
    if (!s.upstreams[0]!.servers[1]!.healthy) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // No worker sends b a request while the primary's checks fail it.
  const hitsBefore = b.hits;
  assert.deepEqual(new Set(await bodies(60)), new Set(['a\n']));
  assert.equal(b.hits, hitsBefore);
  assert.equal(await metric(node.admin, /^gatewise_server_available\{.*server="127\.0\.0\.1:\d+"\} 0/), 0);
  b.healthy = true;
  for (let i = 0; i < 50; i++) {
    if ((await bodies(8)).includes('b\n')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok((await bodies(40)).includes('b\n'));
  // Draining through the admin API reaches every worker.
  const drained = await request(`${node.admin}/api/upstreams/app/servers/0/drain`, { method: 'POST' });
  assert.equal(drained.statusCode, 200);
  await drained.body.text();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(new Set(await bodies(60)), new Set(['b\n']));
});

test('a worker that dies is replaced; the node keeps serving and its counters do not go back', async (t) => {
  const a = await startSwitchUpstream('a');
  t.after(() => a.close());
  const node = await startNode(t, (port, admin) => config(port, admin, [a], ROUTE));
  const origin = `http://127.0.0.1:${node.port}`;
  assert.ok((await load(origin, { requests: 200, concurrency: 4 })).statuses.every((s) => s === 200));
  await new Promise((r) => setTimeout(r, 1200)); // a report from each worker
  const before: Status = await status(node.admin);
  const victim = before.workers[0]!.pid;
  process.kill(victim, 'SIGKILL');
  await node.cli.waitFor(/worker replaced/, 10000);
  const after: Status = await status(node.admin);
  assert.equal(after.workers.length, 2);
  assert.ok(!after.workers.some((w) => w.pid === victim));
  assert.equal(after.worker_restarts, 1);
  const shown = await runCli(['status', '--admin', node.admin.replace('http://', '')]);
  assert.match(shown.stdout, new RegExp(`2 workers \\(${after.workers.map((w) => w.pid).join(', ')}\\), 1 replaced`));
  assert.match(node.cli.output(), /worker exited: replacing it.*"signal":"SIGKILL"/);
  const more = await load(origin, { requests: 100, concurrency: 4 });
  assert.deepEqual(more.errors, []);
  assert.ok(more.statuses.every((s) => s === 200));
  // The dead worker's 200-odd requests are still counted: what it reported last is kept.
  assert.ok((await metric(node.admin, /^gatewise_requests_total\{.*code_class="2xx"/)) >= 250);
});

test('a reload reaches every worker before it returns; the rate limit is one budget for the node', async (t) => {
  const a = await startSwitchUpstream('a');
  t.after(() => a.close());
  const node = await startNode(t, (port, admin) => config(port, admin, [a], ROUTE));
  const origin = `http://127.0.0.1:${node.port}`;
  writeFileSync(
    node.file,
    config(
      node.port,
      Number(new URL(node.admin).port),
      [a],
      `routes:
  - match: { path: / }
    upstream: app
    response_headers: { set: { x-generation: two } }
    rate_limit: { rate: 10, per: 1s, burst: 10 }
`,
    ),
  );
  const reloaded = await runCli(['reload', '--admin', node.admin.replace('http://', '')]);
  assert.equal(reloaded.code, 0, reloaded.stderr);
  // New connections land on both workers: every one serves the new configuration already.
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await request(`${origin}/`, { reset: true });
    await res.body.text();
    statuses.push(res.statusCode);
    if (res.statusCode === 200) assert.equal(res.headers['x-generation'], 'two');
  }
  // 40 more requests at once from one client: the node admits about its burst (10), not 10 per worker.
  const burst = await load(origin, { requests: 40, concurrency: 4 });
  const admitted = [...statuses, ...burst.statuses].filter((s) => s === 200).length;
  assert.ok(admitted >= 10 && admitted <= 15, `admitted ${admitted} of 48`);
  assert.ok(burst.statuses.includes(429));
});

test('SIGTERM stops in order: requests in flight finish, then every worker and the primary exit', async (t) => {
  const a = await startSwitchUpstream('a');
  t.after(() => a.close());
  a.delayMs = 600;
  const node = await startNode(t, (port, admin) => config(port, admin, [a], ROUTE));
  const before = await status(node.admin);
  const inflight = request(`http://127.0.0.1:${node.port}/slow`);
  await new Promise((r) => setTimeout(r, 200));
  const code = node.cli.stop('SIGTERM');
  const res = await inflight;
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'a\n');
  assert.equal(await code, 0);
  for (const w of before.workers) assert.throws(() => process.kill(w.pid, 0), /ESRCH/);
});

test('a cluster node with workers: each version pushed to etcd reaches every worker', {
  skip: !etcdAvailable() && 'no etcd',
}, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const blue = await startSwitchUpstream('blue');
  const green = await startSwitchUpstream('green');
  t.after(() => Promise.all([blue.close(), green.close()]));
  const shared = (s: SwitchUpstream) =>
    `upstreams:\n  app: { servers: [{ url: "${s.url}" }] }\nroutes:\n  - upstream: app\n`;
  await push(t, etcd.url, shared(blue));
  const node = await makeNode(t, 'gw-w', etcd.url);
  node.cli = startCli(['serve', '--config', node.file, '--workers', '2']);
  t.after(() => node.cli.stop('SIGKILL'));
  await node.cli.waitFor(/gatewise started/, 15000);
  // A new connection per request: whichever worker takes it.
  const bodies = async () => {
    const out = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await request(`http://127.0.0.1:${node.port}/`, { reset: true });
      out.add(await res.body.text());
    }
    return out;
  };
  assert.deepEqual(await bodies(), new Set(['blue\n']));
  await push(t, etcd.url, shared(green));
  const deadline = Date.now() + 2000;
  while (!(await bodies()).has('green\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await bodies(), new Set(['green\n']));
  assert.equal(await node.cli.stop('SIGTERM'), 0);
});

test('--workers takes a whole number or auto', async () => {
  const bad = await runCli(['serve', '--config', '/nonexistent.yaml', '--workers', 'many']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--workers must be a whole number from 1 to 1024, or auto \(got "many"\)/);
  const demo = await runCli(['serve', '--workers', '2']);
  assert.equal(demo.code, 1);
  assert.match(demo.stderr, /--workers needs --config/);
});
