/**
 * Managed backends on a whole Gatewise, with real child processes: readiness gating, a SIGKILL under
 * load, memory limits, crash loops, output capture, rolling restarts under load, and no orphans.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkConfigText, loadConfigFile } from '../../src/config/index.js';
import { formatProblem } from '../../src/errors.js';
import type { Stamped } from '../../src/observe/index.js';
import { Service } from '../../src/service.js';
import type { ProcessEvent } from '../../src/supervise/index.js';
import { load, until } from '../support/load.js';
import { freePort } from '../support/nginx.js';
import { get } from '../support/raw-client.js';
import { startService, type TestService } from '../support/service.js';

const BACKEND = fileURLToPath(new URL('../../src/demo/backend.js', import.meta.url));
const NODE = JSON.stringify(process.execPath);

/** Every server of `app` takes traffic: its process ready and its health check passed. */
function allAvailable(service: TestService): boolean {
  return service.service.gateway.runtime.upstreams.get('app')!.servers.every((s) => s.available);
}

/** An upstream `app` of `count` managed demo backends on free ports, checked every 100 ms. */
async function managedApp(count: number, extra = ''): Promise<string> {
  const servers: string[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    servers.push(`      - url: http://127.0.0.1:${port}
        run: { command: ${NODE}, args: [${JSON.stringify(BACKEND)}, --name, b${i}], stop_timeout: 2s, restart: { backoff: { initial: 100ms } } }`);
  }
  return `upstreams:
  app:
    servers:
${servers.join('\n')}
    health: { active: { path: /health, interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 } }
    retries: { attempts: 3 }
${extra}routes: [{ match: { path: / }, upstream: app }]
`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of process group `pgid`, from /proc. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

function processEvents(events: Stamped[]): ProcessEvent[] {
  return events.filter((e): e is Stamped<ProcessEvent> => e.kind === 'process');
}

test('SIGKILL of one of two managed instances under load: no client error, the instance is back', async (t) => {
  const started = await startService(t, await managedApp(2));
  const { service, port, admin } = started;
  const sup = service.supervisor;
  await until(() => sup.list().every((p) => p.state === 'ready') && allAvailable(started), 10000, 'both ready');
  const victim = sup.list()[0]!;
  const firstPid = victim.pid!;
  const result = await load(`http://127.0.0.1:${port}`, {
    requests: 600,
    concurrency: 8,
    during: (i) => {
      if (i === 150) process.kill(firstPid, 'SIGKILL');
    },
  });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    [...new Set(result.statuses)],
    [200],
    `statuses: ${result.statuses.filter((s) => s !== 200).join(',')}`,
  );
  await until(() => sup.list()[0]!.state === 'ready' && sup.list()[0]!.pid !== firstPid, 10000, 'back');
  const back = sup.list()[0]!;
  assert.equal(back.restarts, 1);
  assert.equal(back.last_exit?.reason, 'killed');
  assert.equal(back.last_exit?.signal, 'SIGKILL');
  assert.equal(back.last_exit?.cause, 'crash_or_oom');
  // It takes traffic again.
  await until(() => service.gateway.runtime.upstreams.get('app')!.servers[0]!.available, 5000, 'available');
  const exits = processEvents(service.events.recent()).filter((e) => e.exit !== undefined);
  assert.equal(exits[0]?.exit?.reason, 'killed');
  assert.equal(exits[0]?.restart_in_ms, 100);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(
    metrics,
    new RegExp(`gatewise_managed_exits_total\\{upstream="app",server="${back.server}",reason="killed"\\} 1`),
  );
  assert.match(metrics, new RegExp(`gatewise_managed_restarts_total\\{upstream="app",server="${back.server}"\\} 1`));
  assert.match(metrics, new RegExp(`gatewise_managed_up\\{upstream="app",server="${back.server}"\\} 1`));
});

test('no traffic before a managed server is ready; its output is in the logs and the admin API', async (t) => {
  const port = await freePort();
  // Prints, then listens only after 700 ms.
  const code = `console.log('warming up'); console.error('on stderr'); setTimeout(() => require('http').createServer((q, s) => s.end('late')).listen(process.env.PORT, process.env.HOST), 700)`;
  const {
    service,
    port: gw,
    admin,
  } = await startService(
    t,
    `upstreams:
  app:
    servers: [{ url: http://127.0.0.1:${port}, run: { command: ${NODE}, args: [-e, ${JSON.stringify(code)}], stop_timeout: 1s } }]
routes: [{ match: { path: / }, upstream: app }]
`,
  );
  const early = await get(gw, '/');
  assert.equal(early.status, 503, 'no server is ready: 503 without connecting');
  assert.equal(early.headers.get('proxy-status'), 'gatewise; error=destination_unavailable');
  await until(() => service.supervisor.list()[0]!.state === 'ready', 10000, 'ready');
  assert.equal((await get(gw, '/')).body, 'late');
  const [view] = (await (await fetch(`${admin}/api/processes`)).json()) as Array<{
    state: string;
    lines: Array<{ stream: string; line: string }>;
  }>;
  assert.equal(view!.state, 'ready');
  assert.deepEqual(
    view!.lines.map((l) => [l.stream, l.line]),
    [
      ['stdout', 'warming up'],
      ['stderr', 'on stderr'],
    ],
  );
});

test('over max_memory, the process is restarted gracefully and the exit reads crash_or_oom', async (t) => {
  const port = await freePort();
  // Listens, then keeps 8 MiB more every 100 ms (filled, so that it is resident).
  const code = `const keep = []; require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, process.env.HOST); setInterval(() => keep.push(Buffer.alloc(8 << 20, 1)), 100)`;
  const { service } = await startService(
    t,
    `upstreams:
  app:
    servers:
      - url: http://127.0.0.1:${port}
        run: { command: ${NODE}, args: [-e, ${JSON.stringify(code)}], max_memory: 120m, stop_timeout: 2s, restart: { backoff: { initial: 5s } } }
routes: [{ match: { path: / }, upstream: app }]
`,
  );
  await until(() => service.supervisor.list()[0]!.last_exit !== null, 20000, 'restarted over max_memory');
  const exit = service.supervisor.list()[0]!.last_exit!;
  assert.equal(exit.reason, 'max_memory');
  assert.equal(exit.cause, 'crash_or_oom');
  assert.match(
    exit.detail,
    /^resident memory \d+\.\d MiB is over max_memory 120\.0 MiB: restarted \((exited with code 0|killed by SIGTERM)\)$/,
  );
});

test('a runtime that runs out of memory on its own is read as crash_or_oom from what it printed', async (t) => {
  const port = await freePort();
  const code = `require('http').createServer().listen(process.env.PORT, process.env.HOST); const keep = []; setInterval(() => { for (let i = 0; i < 2e5; i++) keep.push({ i }) }, 10)`;
  const { service } = await startService(
    t,
    `upstreams:
  app:
    servers:
      - url: http://127.0.0.1:${port}
        run: { command: ${NODE}, args: [--max-old-space-size=24, -e, ${JSON.stringify(code)}], restart: { policy: never } }
routes: [{ match: { path: / }, upstream: app }]
`,
  );
  await until(() => service.supervisor.list()[0]!.state === 'exited', 30000, 'heap exhausted');
  const exit = service.supervisor.list()[0]!.last_exit!;
  assert.equal(exit.reason, 'out_of_memory');
  assert.equal(exit.cause, 'crash_or_oom');
});

test('a crash loop stops restarting, marks the server failed and fires the restart-loop alert', async (t) => {
  const port = await freePort();
  const { service } = await startService(
    t,
    `upstreams:
  app:
    servers:
      - url: http://127.0.0.1:${port}
        run: { command: ${NODE}, args: [-e, "console.error('config missing'); process.exit(3)"], restart: { max_restarts: 3, window: 1m, backoff: { initial: 20ms, max: 100ms } } }
routes: [{ match: { path: / }, upstream: app }]
alerts:
  evaluate_every: 50ms
`,
  );
  await until(() => service.supervisor.list()[0]!.state === 'failed', 10000, 'failed');
  const p = service.supervisor.list()[0]!;
  assert.equal(p.restarts, 3);
  assert.equal(p.last_exit?.reason, 'crashed');
  assert.match(p.last_exit!.detail, /exited with code 3; last line: config missing/);
  const failed = processEvents(service.events.recent()).filter((e) => e.state === 'failed');
  assert.equal(failed.length, 1);
  // The built-in GatewiseRestartLoop rule fires (three restarts within five minutes, and given up).
  await until(
    () => service.alerts.alerts().active.some((a) => a.name === 'GatewiseRestartLoop' && a.state === 'firing'),
    5000,
    'restart-loop alert',
  );
});

test('a command that cannot start is a failed start, retried like a crash', async (t) => {
  const port = await freePort();
  const { service } = await startService(
    t,
    `upstreams:
  app:
    servers:
      - url: http://127.0.0.1:${port}
        run: { command: /nonexistent/gatewise-backend, restart: { max_restarts: 1, backoff: { initial: 10ms } } }
routes: [{ match: { path: / }, upstream: app }]
`,
  );
  await until(() => service.supervisor.list()[0]!.state === 'failed', 5000, 'failed');
  const exit = service.supervisor.list()[0]!.last_exit!;
  assert.equal(exit.reason, 'spawn_failed');
  assert.match(exit.detail, /cannot start "\/nonexistent\/gatewise-backend": ENOENT/);
});

test('rolling restart under load: one instance at a time, zero failed requests', async (t) => {
  const started = await startService(t, await managedApp(2));
  const { service, port, admin } = started;
  const sup = service.supervisor;
  await until(() => sup.list().every((p) => p.state === 'ready') && allAvailable(started), 10000, 'both ready');
  const before = sup.list().map((p) => p.pid);
  let restart: Promise<Response> | undefined;
  const result = await load(`http://127.0.0.1:${port}`, {
    requests: 800,
    concurrency: 8,
    during: (i) => {
      if (i === 50) restart = fetch(`${admin}/api/upstreams/app/restart`, { method: 'POST' });
    },
  });
  const response = await restart!;
  const body = (await response.json()) as { ok: boolean; servers: Array<{ ok: boolean }> };
  assert.equal(response.status, 200);
  assert.equal(body.ok, true);
  assert.equal(body.servers.length, 2);
  assert.deepEqual(result.errors, []);
  assert.deepEqual([...new Set(result.statuses)], [200]);
  const after = sup.list();
  assert.ok(after.every((p, i) => p.pid !== before[i] && p.state === 'ready'));
  // Requested stops are not failures: no restart counted, exits read "stopped".
  assert.ok(after.every((p) => p.restarts === 0 && p.last_exit?.reason === 'stopped'));
  assert.equal(service.gateway.runtime.guards.get('app')!.servers.filter((s) => s.draining).length, 0);
});

test('stop ends every child and its own children: no orphans', async (t) => {
  const port = await freePort();
  // The managed process starts a grandchild that would outlive a plain kill of its parent.
  const code = `require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, process.env.HOST)`;
  const { service } = await startService(
    t,
    `upstreams:
  app:
    servers: [{ url: http://127.0.0.1:${port}, run: { command: ${NODE}, args: [-e, ${JSON.stringify(code)}], stop_timeout: 1s } }]
routes: [{ match: { path: / }, upstream: app }]
`,
  );
  await until(() => service.supervisor.list()[0]!.state === 'ready', 10000, 'ready');
  const pid = service.supervisor.list()[0]!.pid!;
  const group = () => groupMembers(pid);
  await until(() => group().length === 2, 5000, 'grandchild started');
  const members = group();
  await service.supervisor.stop();
  await until(() => members.every((member) => !alive(member)), 5000, 'whole group gone');
  assert.equal(service.supervisor.list()[0]!.state, 'stopped');
});

test('a reload starts added managed servers, restarts changed ones, stops removed ones, keeps the rest', async (t) => {
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-supervise-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gatewise.yaml');
  const server = (port: number, name: string) =>
    `      - url: http://127.0.0.1:${port}\n        run: { command: ${NODE}, args: [${JSON.stringify(BACKEND)}, --name, ${name}], stop_timeout: 2s }`;
  const write = (servers: string[]) =>
    writeFileSync(
      file,
      `listen: [{ address: 127.0.0.1:0 }]
admin: { address: 127.0.0.1:0 }
log: { access: false, level: error }
upstreams:
  app:
    servers:
${servers.join('\n')}
routes: [{ match: { path: / }, upstream: app }]
`,
    );
  write([server(p1, 'kept'), server(p2, 'changed'), server(p3, 'removed')]);
  const service = new Service({ config: await loadConfigFile(file), configFile: file });
  await service.start();
  t.after(() => service.stop());
  const sup = service.supervisor;
  await until(() => sup.list().length === 3 && sup.list().every((p) => p.state === 'ready'), 10000, 'three ready');
  const pidOf = (port: number) => sup.list().find((p) => p.server === `127.0.0.1:${port}`)?.pid;
  const [kept, changed, removed] = [pidOf(p1)!, pidOf(p2)!, pidOf(p3)!];
  const p4 = await freePort();

  write([server(p1, 'kept'), server(p2, 'changed-again'), server(p4, 'added')]);
  assert.equal((await service.reload()).ok, true);
  await until(() => sup.list().length === 3 && sup.list().every((p) => p.state === 'ready'), 10000, 'reloaded');
  assert.equal(pidOf(p1), kept, 'an unchanged managed server keeps its process');
  assert.notEqual(pidOf(p2), changed, 'a changed run restarts the process');
  assert.equal(pidOf(p3), undefined);
  assert.ok(pidOf(p4));
  await until(() => !alive(removed) && !alive(changed), 5000, 'old processes gone');
  // Traffic reaches the new and changed servers once they are ready.
  await until(() => service.gateway.runtime.upstreams.get('app')!.servers.every((s) => s.available), 5000, 'gates');
});

test('two managed servers on one address are refused by the config check', () => {
  const { problems } = checkConfigText(
    `listen: [{ address: 127.0.0.1:8080 }]
upstreams:
  a: { servers: [{ url: http://127.0.0.1:5001, run: { command: app } }] }
  b: { servers: [{ url: http://127.0.0.1:5001, run: { command: app } }] }
routes: [{ upstream: a }]
`,
    'run.yaml',
    {},
  );
  assert.deepEqual(problems.map(formatProblem), [
    'run.yaml:4:48: another managed server already runs on http://127.0.0.1:5001 (line 3): two processes cannot listen there',
  ]);
});
