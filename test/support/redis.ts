/**
 * A real Redis (Debian's redis-server) as a child process on a free loopback port, without
 * persistence, for the shared-state tests: kill it (SIGKILL, by pid) and start it again on the same
 * port to play an outage. Stopped when the test ends, even when it fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './nginx.js';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** pid of the running server (0 while killed). */
  readonly pid: number;
  /** SIGKILL: no shutdown, connections cut as a crash cuts them. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts a fresh, empty server on the same port; resolves once it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that keeps its connections but answers nothing (a hung host). */
  pause(): void;
  resume(): void;
  /** What redis-server wrote (for failure messages). */
  output(): string;
}

export const REDIS_SERVER = '/usr/bin/redis-server';

export async function startRedis(t: TestContext): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-redis-'));
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    const deadline = Date.now() + 5000;
    while (!(await answersPing(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`redis-server did not start on port ${port}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid!, 'SIGKILL');
    await gone;
  };

  t.after(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? 0;
    },
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    pause: () => {
      if (child?.pid !== undefined) process.kill(child.pid, 'SIGSTOP');
    },
    resume: () => {
      if (child?.pid !== undefined) process.kill(child.pid, 'SIGCONT');
    },
    output: () => log,
  };
}

/** One PING over a fresh connection (inline command form); true on +PONG within 500 ms. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
