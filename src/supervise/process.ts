/**
 * One managed backend process: started in its own process group, ready once its port (or health
 * path) answers, watched for exit and memory, restarted with exponential backoff, given up on in a
 * crash loop. Every state change is reported to the supervisor, which gates traffic on `ready`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import type { RunConfig } from '../config/run.js';
import type { RootCause } from '../diagnose/index.js';
import { cgroupOomKills, groupResidentBytes, OUT_OF_MEMORY_LINE } from './memory.js';

export type ProcessState = 'starting' | 'ready' | 'stopping' | 'backoff' | 'exited' | 'failed' | 'stopped';

/** Why a process ended, as the supervisor decided from its exit and the evidence around it. */
export type ExitReason =
  | 'stopped'
  | 'exited'
  | 'crashed'
  | 'killed'
  | 'oom_killed'
  | 'out_of_memory'
  | 'max_memory'
  | 'ready_timeout'
  | 'spawn_failed';

export interface ExitRecord {
  at: string;
  pid: number | null;
  code: number | null;
  signal: string | null;
  reason: ExitReason;
  /** The root cause an operator should read (null when Gatewise stopped it on purpose). */
  cause: RootCause | null;
  detail: string;
}

/** Where the managed server listens, and how readiness is checked. */
export interface ProcessTarget {
  upstream: string;
  /** The server URL as configured. */
  url: string;
  /** `host:port` or the socket path, as in logs. */
  address: string;
  host: string;
  port: number;
  socketPath: string;
  /** An HTTP path that must answer below 400 for the process to count as ready; '' = the port accepting. */
  readyPath: string;
}

export interface ProcessHooks {
  state(process: ManagedProcess): void;
  output(process: ManagedProcess, stream: 'stdout' | 'stderr', line: string): void;
  exit(process: ManagedProcess, exit: ExitRecord, restartInMs: number | null): void;
}

const LINES_KEPT = 200;
const READY_POLL_MS = 100;

export interface ProcessSnapshot {
  upstream: string;
  server: string;
  url: string;
  command: string;
  state: ProcessState;
  pid: number | null;
  started_at: string | null;
  ready_at: string | null;
  restarts: number;
  /** Restarts within the restart window, for crash-loop detection. */
  recent_restarts: number;
  resident_bytes: number | null;
  max_memory: number | null;
  exits: Partial<Record<ExitReason, number>>;
  last_exit: ExitRecord | null;
}

export class ManagedProcess {
  state: ProcessState = 'starting';
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private readyAt = 0;
  private restartTimes: number[] = [];
  restarts = 0;
  /** Unexpected and requested exits so far, by reason. */
  readonly exits: Partial<Record<ExitReason, number>> = {};
  /** When automatic restarts happened (the last 100), for restart-loop alerts. */
  private readonly restartHistory: number[] = [];
  lastExit: ExitRecord | null = null;
  residentBytes: number | null = null;
  readonly lines: Array<{ at: string; stream: 'stdout' | 'stderr'; line: string }> = [];
  /** Why Gatewise is stopping it, when it is: decides how the exit is read. */
  private stopIntent: 'stop' | 'restart' | 'max_memory' | 'ready_timeout' | null = null;
  private oomKillsAtStart: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitedResolve: () => void = () => {};
  private sawOutOfMemory = false;
  private memoryDetail = '';

  constructor(
    readonly target: ProcessTarget,
    readonly run: RunConfig,
    private readonly hooks: ProcessHooks,
  ) {}

  get ready(): boolean {
    return this.state === 'ready';
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Restarts within the restart window. */
  recentRestarts(now = Date.now()): number {
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.run.restart.window);
    return this.restartTimes.length;
  }

  /** Automatic restarts within the last `windowMs`. */
  restartsWithin(windowMs: number, now = Date.now()): number {
    return this.restartHistory.filter((t) => now - t < windowMs).length;
  }

  /** Starts the process (again); readiness is polled until ready_timeout. */
  start(): void {
    clearTimeout(this.timer);
    this.stopIntent = null;
    this.sawOutOfMemory = false;
    this.memoryDetail = '';
    this.oomKillsAtStart = cgroupOomKills();
    this.startedAt = Date.now();
    this.readyAt = 0;
    this.residentBytes = null;
    this.setState('starting');
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (this.target.socketPath !== '') env.SOCKET = this.target.socketPath;
    else {
      env.PORT = String(this.target.port);
      env.HOST = this.target.host;
    }
    Object.assign(env, this.run.env);
    let child: ChildProcess;
    try {
      // detached: a process group of its own (setsid), so that a stop reaches its children too.
      child = spawn(this.run.command, this.run.args, {
        cwd: this.run.cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      this.onExit(null, null, `cannot start "${this.run.command}": ${(error as Error).message}`);
      return;
    }
    this.child = child;
    this.exited = new Promise((resolve) => {
      this.exitedResolve = resolve;
    });
    let spawnError = '';
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = `cannot start "${this.run.command}": ${error.code ?? error.message}`;
      if (child.pid === undefined) this.onExit(null, null, spawnError);
    });
    child.once('exit', (code, signal) => this.onExit(code, signal, spawnError));
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (source === null) continue;
      createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
        this.output(stream, line),
      );
    }
    void this.waitReady(child);
  }

  /** Stops the process for good (no restart): stop_signal to its group, SIGKILL after stop_timeout. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.alive()) {
      this.setState('stopped');
      return;
    }
    this.stopIntent ??= 'stop';
    await this.terminate();
  }

  /** A graceful restart: stop, then start and wait until ready (or the start fails). */
  async restart(): Promise<boolean> {
    clearTimeout(this.timer);
    this.stopIntent = 'restart';
    if (this.alive()) await this.terminate();
    this.start();
    return this.untilSettled();
  }

  /** Resolves true once ready, false when the start ended otherwise. */
  untilSettled(): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.state === 'ready') return resolve(true);
        if (this.state !== 'starting') return resolve(false);
        setTimeout(check, READY_POLL_MS / 2).unref();
      };
      check();
    });
  }

  /** Memory watch, called by the supervisor's timer. */
  sampleMemory(): void {
    const pid = this.child?.pid;
    if (pid === undefined || (this.state !== 'ready' && this.state !== 'starting')) return;
    this.residentBytes = groupResidentBytes(pid);
    const limit = this.run.max_memory;
    if (limit !== undefined && this.residentBytes !== null && this.residentBytes > limit && this.stopIntent === null) {
      this.memoryDetail = `resident memory ${mib(this.residentBytes)} is over max_memory ${mib(limit)}`;
      this.stopIntent = 'max_memory';
      void this.terminate();
    }
  }

  /** Last-resort kill (Gatewise itself is exiting): SIGKILL to the group, synchronously. */
  killNow(): void {
    clearTimeout(this.timer);
    if (this.alive()) signalGroup(this.child!.pid!, 'SIGKILL');
  }

  snapshot(): ProcessSnapshot {
    return {
      upstream: this.target.upstream,
      server: this.target.address,
      url: this.target.url,
      command: [this.run.command, ...this.run.args].join(' '),
      state: this.state,
      pid:
        this.child !== null && (this.state === 'ready' || this.state === 'starting' || this.state === 'stopping')
          ? this.pid
          : null,
      started_at: this.startedAt ? new Date(this.startedAt).toISOString() : null,
      ready_at: this.readyAt ? new Date(this.readyAt).toISOString() : null,
      restarts: this.restarts,
      recent_restarts: this.recentRestarts(),
      resident_bytes: this.residentBytes,
      max_memory: this.run.max_memory ?? null,
      exits: { ...this.exits },
      last_exit: this.lastExit,
    };
  }

  private alive(): boolean {
    const child = this.child;
    return child !== null && child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (child === null || child.pid === undefined || !this.alive()) return;
    this.setState('stopping');
    signalGroup(child.pid, this.run.stop_signal);
    const kill = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), this.run.stop_timeout);
    kill.unref();
    await this.exited;
    clearTimeout(kill);
  }

  private output(stream: 'stdout' | 'stderr', line: string): void {
    if (OUT_OF_MEMORY_LINE.test(line)) this.sawOutOfMemory = true;
    this.lines.push({ at: new Date().toISOString(), stream, line });
    if (this.lines.length > LINES_KEPT) this.lines.splice(0, this.lines.length - LINES_KEPT);
    this.hooks.output(this, stream, line);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = this.startedAt + this.run.ready_timeout;
    while (this.child === child && this.state === 'starting') {
      if (await probe(this.target)) {
        if (this.child === child && this.state === 'starting') {
          this.readyAt = Date.now();
          this.setState('ready');
        }
        return;
      }
      if (Date.now() >= deadline) {
        this.stopIntent = 'ready_timeout';
        await this.terminate();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS).unref());
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, spawnError: string): void {
    if (this.state === 'exited' || this.state === 'failed' || this.state === 'stopped' || this.state === 'backoff')
      return;
    const exit = this.classify(code, signal, spawnError);
    this.lastExit = exit;
    this.exits[exit.reason] = (this.exits[exit.reason] ?? 0) + 1;
    this.exitedResolve();
    const intent = this.stopIntent;
    if (intent === 'stop' || intent === 'restart') {
      this.setState(intent === 'stop' ? 'stopped' : 'exited');
      this.hooks.exit(this, exit, null);
      return;
    }
    const policy = this.run.restart.policy;
    if (policy === 'never' || (policy === 'on-failure' && code === 0)) {
      this.setState('exited');
      this.hooks.exit(this, exit, null);
      return;
    }
    const now = Date.now();
    if (this.recentRestarts(now) >= this.run.restart.max_restarts) {
      this.state = 'failed';
      this.hooks.exit(this, exit, null);
      return;
    }
    const { initial, max } = this.run.restart.backoff;
    const wait = Math.min(max, initial * 2 ** this.restartTimes.length);
    this.restartTimes.push(now);
    this.restartHistory.push(now);
    if (this.restartHistory.length > 100) this.restartHistory.shift();
    this.restarts++;
    this.state = 'backoff';
    this.hooks.exit(this, exit, wait);
    this.timer = setTimeout(() => this.start(), wait);
    this.timer.unref();
  }

  private classify(code: number | null, signal: NodeJS.Signals | null, spawnError: string): ExitRecord {
    const base = { at: new Date().toISOString(), pid: this.child?.pid ?? null, code, signal };
    const how = signal !== null ? `killed by ${signal}` : code !== null ? `exited with code ${code}` : 'did not start';
    const tail = this.lines.length > 0 ? `; last line: ${this.lines[this.lines.length - 1]!.line}` : '';
    if (spawnError !== '' && code === null && signal === null)
      return { ...base, reason: 'spawn_failed', cause: 'backend_down', detail: spawnError };
    switch (this.stopIntent) {
      case 'stop':
      case 'restart':
        return { ...base, reason: 'stopped', cause: null, detail: `stopped by Gatewise (${how})` };
      case 'max_memory':
        return {
          ...base,
          reason: 'max_memory',
          cause: 'crash_or_oom',
          detail: `${this.memoryDetail}: restarted (${how})`,
        };
      case 'ready_timeout':
        return {
          ...base,
          reason: 'ready_timeout',
          cause: 'backend_down',
          detail: `not ready within ready_timeout ${this.run.ready_timeout} ms (${how})${tail}`,
        };
      default:
        break;
    }
    const oomKills = cgroupOomKills();
    const killedByOom =
      (signal === 'SIGKILL' || code === 137) &&
      oomKills !== null &&
      this.oomKillsAtStart !== null &&
      oomKills > this.oomKillsAtStart;
    if (killedByOom)
      return {
        ...base,
        reason: 'oom_killed',
        cause: 'crash_or_oom',
        detail: `${how}: the kernel OOM killer (cgroup memory.events oom_kill ${this.oomKillsAtStart} -> ${oomKills})`,
      };
    if (this.sawOutOfMemory)
      return {
        ...base,
        reason: 'out_of_memory',
        cause: 'crash_or_oom',
        detail: `${how} after running out of memory${tail}`,
      };
    if (signal !== null)
      return {
        ...base,
        reason: 'killed',
        cause: 'crash_or_oom',
        detail: `${how} (not by Gatewise${oomKills === null ? '; OOM kills cannot be read here' : '; no OOM kill recorded'})`,
      };
    if (code === 0) return { ...base, reason: 'exited', cause: 'backend_down', detail: `${how}${tail}` };
    return { ...base, reason: 'crashed', cause: 'crash_or_oom', detail: `${how}${tail}` };
  }

  private setState(state: ProcessState): void {
    if (this.state === state) return;
    this.state = state;
    this.hooks.state(this);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Ready when the port accepts a connection, or when the ready path answers below 400. */
function probe(target: ProcessTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    if (target.readyPath !== '') {
      const request = http.get(
        {
          host: target.socketPath === '' ? target.host : undefined,
          port: target.socketPath === '' ? target.port : undefined,
          socketPath: target.socketPath || undefined,
          path: target.readyPath,
          agent: false,
        },
        (response) => {
          response.resume();
          done((response.statusCode ?? 500) < 400);
        },
      );
      request.on('error', () => done(false));
      request.setTimeout(1000, () => request.destroy());
      return;
    }
    const socket = target.socketPath !== '' ? net.connect(target.socketPath) : net.connect(target.port, target.host);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
