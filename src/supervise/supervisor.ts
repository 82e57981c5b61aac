/**
 * The supervisor: one ManagedProcess per server that has `run`, kept in step with the configuration
 * (started at start-up and on reload, stopped when removed), traffic gated on readiness through the
 * gateway's guards, rolling restarts, and a graceful stop of every child when Gatewise stops (with a
 * last-resort SIGKILL of every group if Gatewise exits without one).
 */
import { type Config, parseServerUrl } from '../config/index.js';
import type { Runtime } from '../proxy/index.js';
import { type ExitRecord, ManagedProcess, type ProcessSnapshot, type ProcessState } from './process.js';

export interface ProcessEvent {
  kind: 'process';
  upstream: string;
  server: string;
  state: ProcessState;
  pid: number | null;
  restarts: number;
  exit?: ExitRecord;
  /** For an exit that will be restarted: in how long. */
  restart_in_ms?: number;
}

export interface SupervisorOptions {
  /** The gateway's current runtime (a reload swaps it). */
  runtime: () => Runtime | null;
  emit: (event: ProcessEvent) => void;
  output: (record: Record<string, unknown>) => void;
}

const MEMORY_SAMPLE_MS = 1000;

function keyOf(upstream: string, url: string): string {
  return `${upstream}\u0000${url}`;
}

export class Supervisor {
  private readonly processes = new Map<string, { process: ManagedProcess; spec: string }>();
  private memoryTimer: NodeJS.Timeout | undefined;
  private readonly killAll = () => {
    for (const { process } of this.processes.values()) process.killNow();
  };
  private started = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** Whether traffic may go to a server: always for unmanaged ones, once ready for managed ones. */
  isReady(upstream: string, url: string): boolean {
    const entry = this.processes.get(keyOf(upstream, url));
    return entry === undefined || entry.process.ready;
  }

  /** Registers the managed servers of `config` (not yet started), so that gates exist before traffic. */
  adopt(config: Config): { added: ManagedProcess[]; removed: ManagedProcess[]; replaced: ManagedProcess[] } {
    const wanted = new Map<string, { upstream: string; url: string; spec: string; config: Config }>();
    for (const [upstream, u] of Object.entries(config.upstreams)) {
      for (const server of u.servers) {
        if (server.run === undefined) continue;
        const spec = JSON.stringify([server.run, u.health.active?.type, u.health.active?.path]);
        wanted.set(keyOf(upstream, server.url), { upstream, url: server.url, spec, config });
      }
    }
    const added: ManagedProcess[] = [];
    const removed: ManagedProcess[] = [];
    const replaced: ManagedProcess[] = [];
    for (const [key, entry] of this.processes) {
      const next = wanted.get(key);
      if (next === undefined) removed.push(entry.process);
      else if (next.spec !== entry.spec) replaced.push(entry.process);
    }
    for (const process of removed) this.processes.delete(keyOf(process.target.upstream, process.target.url));
    for (const [key, next] of wanted) {
      const existing = this.processes.get(key);
      if (existing !== undefined && existing.spec === next.spec) continue;
      const process = this.create(next.upstream, next.url, config);
      this.processes.set(key, { process, spec: next.spec });
      added.push(process);
    }
    return { added, removed, replaced };
  }

  /** Starts every registered process not started yet, and the memory watch. */
  start(): void {
    if (!this.started) {
      this.started = true;
      process.once('exit', this.killAll);
      this.memoryTimer = setInterval(() => {
        for (const { process } of this.processes.values()) process.sampleMemory();
      }, MEMORY_SAMPLE_MS);
      this.memoryTimer.unref();
    }
    for (const { process } of this.processes.values())
      if (process.pid === null && process.state === 'starting') process.start();
  }

  /**
   * Brings the processes in line with a new configuration: replaced ones (same server, new `run`) are
   * stopped before their successor binds the same port; new ones start. Removed ones are returned to
   * be stopped once the new runtime no longer routes to them (`retire`).
   */
  async reconcile(config: Config): Promise<ManagedProcess[]> {
    const { removed, replaced } = this.adopt(config);
    await Promise.all(replaced.map((process) => process.stop()));
    this.start();
    return removed;
  }

  async retire(processes: readonly ManagedProcess[]): Promise<void> {
    await Promise.all(processes.map((process) => process.stop()));
  }

  /**
   * Restarts the managed servers of an upstream one at a time: drain (no new requests), wait for its
   * in-flight requests (up to its stop_timeout), restart, wait until ready, undrain.
   */
  async rollingRestart(upstream: string): Promise<Array<{ server: string; ok: boolean }>> {
    const results: Array<{ server: string; ok: boolean }> = [];
    for (const { process } of [...this.processes.values()]) {
      if (process.target.upstream !== upstream) continue;
      const drain = (draining: boolean) => {
        const runtime = this.options.runtime();
        const index = runtime?.upstreams.get(upstream)?.servers.findIndex((s) => s.key === process.target.url) ?? -1;
        if (index >= 0) runtime!.guards.get(upstream)?.setDraining(index, draining);
        return index >= 0 ? runtime!.upstreams.get(upstream)!.servers[index]! : undefined;
      };
      const server = drain(true);
      const deadline = Date.now() + process.run.stop_timeout;
      while (server !== undefined && server.inflight > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 25));
      const ok = await process.restart();
      drain(false);
      results.push({ server: process.target.address, ok });
      if (!ok) break;
    }
    return results;
  }

  /** Applies every process's readiness to the current runtime (after a reload swapped it). */
  regate(): void {
    for (const { process } of this.processes.values()) this.gate(process);
  }

  /** What restart-loop alert rules read. */
  facts(): Array<{ upstream: string; server: string; failed: boolean; restartsWithin(ms: number): number }> {
    return [...this.processes.values()].map(({ process }) => ({
      upstream: process.target.upstream,
      server: process.target.address,
      failed: process.state === 'failed',
      restartsWithin: (ms: number) => process.restartsWithin(ms),
    }));
  }

  list(): ProcessSnapshot[] {
    return [...this.processes.values()].map(({ process }) => process.snapshot());
  }

  /** The last output lines of one managed server. */
  lines(upstream: string, server: string): ManagedProcess['lines'] | undefined {
    for (const { process } of this.processes.values())
      if (process.target.upstream === upstream && process.target.address === server) return process.lines;
    return undefined;
  }

  /** Stops every child gracefully (SIGKILL after each one's stop_timeout). */
  async stop(): Promise<void> {
    clearInterval(this.memoryTimer);
    await Promise.all([...this.processes.values()].map(({ process }) => process.stop()));
    process.removeListener('exit', this.killAll);
  }

  private create(upstream: string, url: string, config: Config): ManagedProcess {
    const u = config.upstreams[upstream]!;
    const server = u.servers.find((s) => s.url === url)!;
    const target = parseServerUrl(url);
    const active = u.health.active;
    const readyPath = active?.type === 'http' && target.kind === 'http' ? active.path : '';
    const where =
      target.kind === 'unix'
        ? { address: target.path, host: '', port: 0, socketPath: target.path }
        : { address: `${target.host}:${target.port}`, host: target.host, port: target.port, socketPath: '' };
    return new ManagedProcess({ upstream, url, ...where, readyPath }, server.run!, {
      state: (p) => {
        this.gate(p);
        if (p.state === 'stopping' || p.state === 'backoff') return;
        this.options.emit(this.event(p));
      },
      output: (p, stream, line) =>
        this.options.output({ msg: line, upstream: p.target.upstream, server: p.target.address, pid: p.pid, stream }),
      exit: (p, exit, restartInMs) => {
        this.gate(p);
        this.options.emit({ ...this.event(p), exit, ...(restartInMs !== null ? { restart_in_ms: restartInMs } : {}) });
      },
    });
  }

  private event(p: ManagedProcess): ProcessEvent {
    return {
      kind: 'process',
      upstream: p.target.upstream,
      server: p.target.address,
      state: p.state,
      pid: p.pid,
      restarts: p.restarts,
    };
  }

  /** Opens or closes the server's gate in the current runtime. */
  private gate(p: ManagedProcess): void {
    const runtime = this.options.runtime();
    if (runtime === null) return;
    const upstream = runtime.upstreams.get(p.target.upstream);
    const guard = runtime.guards.get(p.target.upstream);
    if (upstream === undefined || guard === undefined) return;
    for (const server of upstream.servers) {
      if (server.key.split('#')[0] === p.target.url) guard.setProcessReady(server.index, p.ready);
    }
  }
}
