import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError } from './errors.js';
import { isSameProcess, type ProcStat, processTreeStats } from './proc.js';

const STDERR_TAIL_BYTES = 4096;

/** How a child ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process owned by a ProcessGroup. */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private stderr = '';
  private stdout = '';
  private readonly keepStdout: boolean;

  constructor(name: string, child: ChildProcess, keepStdout: boolean) {
    this.name = name;
    this.child = child;
    this.keepStdout = keepStdout;
    // Reading both pipes always: a child blocked on a full pipe would distort what it measures.
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.keepStdout) this.stdout += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.stderr += `\n${err.message}`;
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
      child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) {
      throw new BenchError('GW_BENCH_CHILD', `${this.name} has no pid (spawn failed: ${this.stderrTail()})`);
    }
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  stderrTail(): string {
    return this.stderr.trim();
  }

  output(): string {
    return this.stdout;
  }

  /** One line saying how it ended, with the last line it printed to stderr. */
  describeExit(): string {
    const how = this.exitInfo?.signal ?? `code ${this.exitInfo?.code ?? '?'}`;
    const lastLine = this.stderrTail().split('\n').pop() ?? '';
    return `${this.name} exited (${how})${lastLine === '' ? '' : `: ${lastLine}`}`;
  }
}

export interface SpawnOptions {
  /** CPU list for `taskset -c` (the process and every thread and child it makes inherit it). */
  cpus: string;
  cwd?: string;
  keepStdout?: boolean;
}

/** Owns every child the benchmark starts, so each one is stopped at the end, on errors and on SIGINT. */
export class ProcessGroup {
  private readonly members = new Set<ManagedProcess>();
  private isClosed = false;

  /** True once close() was called: nothing new starts, so the caller's loops can stop early. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops every member and refuses new ones (on SIGINT, while the benchmark's loop may still run). */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.stopAll();
  }

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): ManagedProcess {
    if (this.isClosed) throw new BenchError('GW_BENCH_CHILD', `not starting ${name}: the benchmark is stopping`);
    // taskset execs the command, so the child's pid is the pinned program's own pid.
    const child = spawn('taskset', ['-c', options.cpus, command, ...args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const managed = new ManagedProcess(name, child, options.keepStdout ?? false);
    this.members.add(managed);
    void managed.exited.then(() => this.members.delete(managed));
    return managed;
  }

  /** Runs a command to its end (killed after `timeoutMs`) and returns what it printed. */
  async run(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions & { timeoutMs: number },
  ): Promise<{ stdout: string; stderr: string; exit: ExitInfo }> {
    const managed = this.spawn(name, command, args, { ...options, keepStdout: true });
    const timer = setTimeout(() => void this.stop(managed), options.timeoutMs);
    try {
      const exit = await managed.exited;
      return { stdout: managed.output(), stderr: managed.stderrTail(), exit };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * SIGTERM (nginx: fast shutdown; node: exit), then SIGKILL to the whole tree after a grace
   * period: a killed nginx master would leave its worker behind.
   */
  async stop(managed: ManagedProcess, graceMs = 3000): Promise<void> {
    if (!managed.running || managed.child.pid === undefined) return;
    const tree = safeTree(managed.child.pid);
    signal(managed.child.pid, 'SIGTERM');
    const ended = await Promise.race([managed.exited.then(() => true), sleep(graceMs).then(() => false)]);
    for (const stat of tree) killIfSame(stat);
    if (!ended) await managed.exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.members].map((m) => this.stop(m)));
  }

  /** For `process.on('exit')`, where nothing asynchronous runs any more. */
  killAllNow(): void {
    for (const managed of this.members) {
      if (managed.child.pid === undefined || !managed.running) continue;
      for (const stat of safeTree(managed.child.pid)) killIfSame(stat);
    }
  }
}

function safeTree(pid: number): ProcStat[] {
  try {
    return processTreeStats(pid);
  } catch {
    return [];
  }
}

/** SIGKILL a process seen earlier, unless it is gone or its pid now belongs to another process. */
function killIfSame(stat: ProcStat): void {
  if (isSameProcess(stat.pid, stat.startTimeTicks)) signal(stat.pid, 'SIGKILL');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: already gone, which is the goal.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** A port free on 127.0.0.1 right now (the OS picks it; the caller binds it moments later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') {
    throw new BenchError('GW_BENCH_START', 'could not read the address of a probe listener');
  }
  return address.port;
}

/**
 * Waits until `probe` succeeds, the process exits (BenchError with its last stderr line) or
 * `timeoutMs` passes.
 */
export async function waitUntilReady(
  managed: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!managed.running) throw new BenchError('GW_BENCH_START', managed.describeExit());
    if (await probe()) return;
    await sleep(50);
  }
  throw new BenchError('GW_BENCH_START', `${managed.name} did not answer within ${timeoutMs} ms`);
}
