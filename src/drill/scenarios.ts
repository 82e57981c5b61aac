/**
 * The drill scenarios: one or more per root cause, each a fault injected into the sandbox (through
 * the fault proxy, a process signal, or a config reload that points a server somewhere broken) and
 * what must happen: who sees errors, how the failures are classified, what detects it, which alert
 * fires, and the recovery.
 */
import * as net from 'node:net';
import { runDoctor } from '../diagnose/doctor/index.js';
import type { Stamped } from '../observe/index.js';
import { freePort } from './ports.js';
import type { Check, Scenario, ScenarioContext } from './runner.js';
import type { Sandbox } from './sandbox.js';
import { startUpstream, type UpstreamBehaviour } from './upstreams.js';

const R0 = 0;

/** Replica 0's server, as the gateway names it. */
function r0(ctx: ScenarioContext) {
  return ctx.target.replicas[R0]!;
}

/** The sandbox of a scenario that reloads configs or signals processes (never run against --target). */
function sandboxOf(ctx: ScenarioContext): Sandbox {
  if (ctx.target.sandbox === undefined) throw new Error('this scenario runs only in a drill sandbox');
  return ctx.target.sandbox;
}

/** Points replica 0 at a misbehaving upstream for the fault, and back at its proxy afterwards. */
async function retargetR0(ctx: ScenarioContext, url: string): Promise<void> {
  await sandboxOf(ctx).retarget(R0, { kind: 'url', url });
  ctx.notes.push(`server r0 pointed at ${url} (config reload)`);
}

/** Starts a misbehaving upstream for the fault (closed after it) and points replica 0 at it. */
async function retargetR0ToUpstream(
  ctx: ScenarioContext,
  behaviour: UpstreamBehaviour,
  urlOf: (url: string) => string = (url) => url,
): Promise<void> {
  const upstream = await startUpstream(behaviour);
  ctx.cleanup.push(() => upstream.close());
  await retargetR0(ctx, urlOf(upstream.url));
}

async function restoreR0(ctx: ScenarioContext): Promise<void> {
  await sandboxOf(ctx).retarget(R0, { kind: 'proxy' });
}

/** A server taken out of rotation: passive ejection, or active checks failing. */
const outOfRotation = (e: Stamped): boolean => e.kind === 'ejected' || (e.kind === 'health' && e.to === 'unhealthy');

/**
 * A backend that drops connections idle for `idleMs` without a word (no `Connection: close`, no
 * Keep-Alive hint), deterministically: a request arriving on such a connection meets a close, as when
 * the backend's FIN crosses the gateway's reuse — the keep-alive race.
 */
function silentIdleCloseBackend(idleMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let lastAnswerMs = 0;
    let head = '';
    socket.on('data', (chunk) => {
      if (head === '' && lastAnswerMs > 0 && Date.now() - lastAnswerMs >= idleMs) {
        socket.destroy();
        return;
      }
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      head = '';
      lastAnswerMs = Date.now();
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n');
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'backend_down',
    cause: 'backend_down',
    title: 'one replica stops accepting connections',
    short: true,
    expect: {
      clientErrors: 'none',
      failures: [{ type: 'connection_refused', cause: 'backend_down' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    inject: (ctx) => ctx.target.faults.setEnabled(r0(ctx).name, false),
    remove: (ctx) => ctx.target.faults.setEnabled(r0(ctx).name, true),
  },
  {
    name: 'backend_down_all',
    cause: 'backend_down',
    title: 'every replica stops accepting connections',
    expect: {
      clientErrors: 'some',
      failures: [{ type: 'connection_refused', cause: 'backend_down' }],
      alert: 'DrillUpstreamDown',
    },
    async inject(ctx) {
      for (const r of ctx.target.replicas) await ctx.target.faults.setEnabled(r.name, false);
    },
    async remove(ctx) {
      for (const r of ctx.target.replicas) await ctx.target.faults.setEnabled(r.name, true);
    },
  },
  {
    name: 'wrong_upstream_address',
    sandboxOnly: true,
    cause: 'wrong_upstream_address',
    title: 'a server points at a closed port (config mistake)',
    expect: {
      clientErrors: 'none',
      failures: [{ type: 'connection_refused', cause: 'backend_down' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    async inject(ctx) {
      const closed = await freePort();
      await retargetR0(ctx, `http://127.0.0.1:${closed}`);
      // `gatewise doctor` on the same config must name the unreachable target.
      const report = await runDoctor({
        config: sandboxOf(ctx).configFile,
        checks: ['tcp', 'listeners'],
        timeoutMs: 1000,
      });
      const finding = report.findings.find((f) => f.severity === 'critical' && (f.target ?? '').includes(`:${closed}`));
      ctx.notes.push(
        finding
          ? `doctor: ${finding.title} (cause ${finding.cause})`
          : `doctor found nothing critical for port ${closed}`,
      );
      (ctx as ScenarioContext & { doctorCause?: string }).doctorCause = finding?.cause ?? '';
    },
    remove: restoreR0,
    verify(ctx): Check[] {
      const cause = (ctx as ScenarioContext & { doctorCause?: string }).doctorCause ?? '';
      return [
        {
          name: 'gatewise doctor names the closed port',
          ok: cause === 'wrong_upstream_address' || cause === 'backend_down',
          detail: ctx.notes.find((n) => n.startsWith('doctor')) ?? 'doctor did not run',
        },
      ];
    },
  },
  {
    name: 'slow_backend',
    cause: 'slow_backend',
    title: 'one replica answers after more than the read timeout',
    short: true,
    expect: {
      clientErrors: 'none',
      failures: [{ type: 'connection_read_timeout', cause: 'slow_backend' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    inject: (ctx) =>
      ctx.target.faults.addToxic(r0(ctx).name, {
        name: 'slow',
        type: 'latency',
        stream: 'downstream',
        attributes: { latency: ctx.target.readTimeoutMs + 500, jitter: 0 },
      }),
    remove: (ctx) => ctx.target.faults.removeToxic(r0(ctx).name, 'slow'),
  },
  {
    name: 'firewall_or_network',
    sandboxOnly: true,
    cause: 'firewall_or_network',
    title: 'connects to one replica hang (a firewall drops the SYN, a full accept queue)',
    expect: {
      clientErrors: 'none',
      failures: [{ type: 'connection_timeout', cause: 'firewall_or_network' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    inject: (ctx) => retargetR0ToUpstream(ctx, 'full_backlog'),
    remove: restoreR0,
  },
  {
    name: 'tls_mismatch_http_to_https',
    sandboxOnly: true,
    cause: 'tls_mismatch',
    title: 'http:// to a replica that speaks TLS',
    expect: {
      clientErrors: 'none',
      failures: [{ type: '*', cause: 'tls_mismatch' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    inject: (ctx) => retargetR0ToUpstream(ctx, 'tls', (url) => url.replace('https://', 'http://')),
    remove: restoreR0,
  },
  {
    name: 'tls_mismatch_https_to_http',
    sandboxOnly: true,
    cause: 'tls_mismatch',
    title: 'https:// to a replica that speaks plain HTTP',
    expect: {
      clientErrors: 'none',
      failures: [{ type: '*', cause: 'tls_mismatch' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    inject: (ctx) => retargetR0(ctx, `https://127.0.0.1:${r0(ctx).proxyPort}`),
    remove: restoreR0,
  },
  {
    name: 'crash_or_oom',
    sandboxOnly: true,
    cause: 'crash_or_oom',
    title: 'one replica is killed (SIGKILL, as the OOM killer does) under load',
    short: true,
    expect: {
      clientErrors: 'none',
      // The exit closes the server's gate at once: often no request meets the dead process at all.
      failures: [],
      detected: (e) => e.kind === 'process' && e.exit !== undefined,
    },
    async inject(ctx) {
      const process0 = sandboxOf(ctx)
        .service.supervisor.list()
        .find((p) => p.server === r0(ctx).server);
      if (process0?.pid == null) throw new Error('replica r0 has no process to kill');
      ctx.notes.push(`SIGKILL to pid ${process0.pid}`);
      process.kill(process0.pid, 'SIGKILL');
    },
    remove: async () => {},
    recoveredAt(ctx) {
      const readyAt = sandboxOf(ctx)
        .service.supervisor.list()
        .find((p) => p.server === r0(ctx).server)?.ready_at;
      return readyAt ? Date.parse(readyAt) : null;
    },
    recovered: (ctx) =>
      ctx.target.allAvailable() &&
      sandboxOf(ctx)
        .service.supervisor.list()
        .every((p) => p.state === 'ready' && p.restarts >= (p.server === r0(ctx).server ? 1 : 0)),
    verify(ctx): Check[] {
      const p = sandboxOf(ctx)
        .service.supervisor.list()
        .find((x) => x.server === r0(ctx).server);
      return [
        {
          name: 'the exit is classified crash_or_oom and the replica restarted',
          ok: p?.last_exit?.cause === 'crash_or_oom' && (p?.restarts ?? 0) >= 1,
          detail: p?.last_exit
            ? `${p.last_exit.reason}: ${p.last_exit.detail}; restarts ${p.restarts}`
            : 'no exit recorded',
        },
      ];
    },
  },
  {
    name: 'crash_mid_response',
    sandboxOnly: true,
    cause: 'crash_or_oom',
    title: 'one replica dies in the middle of its responses (body cut after the head)',
    expect: {
      clientErrors: 'some',
      failures: [{ type: 'http_response_incomplete', cause: 'crash_or_oom' }],
    },
    inject: (ctx) =>
      ctx.target.faults.addToxic(r0(ctx).name, {
        name: 'cut',
        type: 'limit_data',
        stream: 'downstream',
        attributes: { bytes: 250 },
      }),
    remove: (ctx) => ctx.target.faults.removeToxic(r0(ctx).name, 'cut'),
  },
  {
    name: 'dns',
    sandboxOnly: true,
    cause: 'dns',
    title: 'a replica host name stops resolving',
    expect: {
      clientErrors: 'none',
      failures: [{ type: 'dns_error', cause: 'dns' }],
      detected: outOfRotation,
      alert: 'DrillServerDown',
    },
    inject: (ctx) => retargetR0(ctx, `http://gatewise-drill-replica.invalid:${r0(ctx).proxyPort}`),
    remove: restoreR0,
  },
  {
    name: 'overload',
    sandboxOnly: true,
    cause: 'overload_or_exhaustion',
    title: 'a burst far beyond max_inflight + queue while the backends slow down',
    upstreamExtra: '    limits: { max_inflight: 4, queue: 4, queue_timeout: 300ms, retry_after: 1s }\n',
    expect: {
      clientErrors: 'some',
      failures: [{ type: 'connection_limit_reached', cause: 'overload_or_exhaustion' }],
    },
    async inject(ctx) {
      for (const r of ctx.target.replicas)
        await ctx.target.faults.addToxic(r.name, {
          name: 'slow',
          type: 'latency',
          stream: 'downstream',
          attributes: { latency: 200, jitter: 0 },
        });
    },
    async during(ctx) {
      const burst = await ctx.load.burst(60);
      (ctx as ScenarioContext & { burst?: typeof burst }).burst = burst;
    },
    async remove(ctx) {
      for (const r of ctx.target.replicas) await ctx.target.faults.removeToxic(r.name, 'slow');
    },
    verify(ctx): Check[] {
      const burst = (ctx as ScenarioContext & { burst?: import('./load.js').Sample[] }).burst ?? [];
      const shed = burst.filter((s) => s.status === 503);
      const admitted = burst
        .filter((s) => s.status === 200)
        .map((s) => s.durationMs)
        .sort((a, b) => a - b);
      const worst = admitted[admitted.length - 1] ?? 0;
      // Admitted requests wait at most the queue timeout and go through once: no avalanche.
      const bound = 300 + 200 * 2 + 1000;
      return [
        {
          name: 'shed requests get a fast 503 with Retry-After',
          ok: shed.length > 0 && shed.every((s) => s.errorType === 'connection_limit_reached' && s.retryAfter === '1'),
          detail: `${shed.length} of ${burst.length} shed; slowest shed answer ${Math.round(Math.max(0, ...shed.map((s) => s.durationMs)))} ms`,
        },
        {
          name: 'admitted requests stay bounded',
          ok: admitted.length > 0 && worst < bound,
          detail: `${admitted.length} admitted, slowest ${Math.round(worst)} ms (bound ${bound} ms)`,
        },
      ];
    },
  },
  {
    name: 'keepalive_mismatch',
    sandboxOnly: true,
    cause: 'keepalive_mismatch',
    title: 'a replica closes idle connections after 1 s without saying so (keep-alive race)',
    // Requests far enough apart for pooled connections to sit idle past the backend's limit.
    rps: 1,
    holdMs: 6000,
    expect: {
      clientErrors: 'none',
      failures: [{ type: '*', cause: 'keepalive_mismatch' }],
    },
    async inject(ctx) {
      const backend = await silentIdleCloseBackend(1000);
      ctx.cleanup.push(() => backend.close());
      await retargetR0(ctx, backend.url);
    },
    remove: restoreR0,
  },
];

/** The scenarios named (all when none), or an error naming the unknown ones. */
export function pickScenarios(names: readonly string[], short: boolean, remote = false): Scenario[] {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')} (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const local = names.filter((n) => remote && SCENARIOS.find((s) => s.name === n)?.sandboxOnly);
  if (local.length > 0)
    throw new Error(`${local.join(', ')} run only in a sandbox (they reload its config or signal its processes)`);
  const chosen = names.length > 0 ? SCENARIOS.filter((s) => names.includes(s.name)) : [...SCENARIOS];
  return chosen.filter((s) => (!short || s.short) && (!remote || !s.sandboxOnly));
}
