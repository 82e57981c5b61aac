/**
 * A real etcd (Debian's etcd-server) for tests: one member on free loopback ports with a temporary
 * data directory, stopped by pid. It can be killed (SIGKILL) and started again on the same data
 * directory and ports, as a crashed etcd coming back.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nginx.js';

export const ETCD_BIN = '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return spawnSync(ETCD_BIN, ['--version']).status === 0;
}

export interface RunningEtcd {
  /** The client URL, http://127.0.0.1:PORT. */
  readonly url: string;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Kills the member with a signal (SIGKILL: a crash) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data directory and ports; waits until it is healthy. */
  restart(): Promise<void>;
  /** Replaces the data directory with a copy saved by `snapshot` (etcd must be stopped): a restore. */
  restore(copy: string): void;
  /** Copies the data directory (etcd must be stopped) and returns the copy's path. */
  snapshot(): string;
  /** Stops etcd and removes its directories. */
  stop(): Promise<void>;
}

async function healthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`etcd exited:\n${output()}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      const body = (await response.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`etcd did not become healthy at ${url}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startEtcd(): Promise<RunningEtcd> {
  const root = mkdtempSync(join(tmpdir(), 'gatewise-etcd-'));
  const dataDir = join(root, 'data');
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'test',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `test=${peer}`,
    '--initial-cluster-state',
    'new',
    // One member elects itself after one election timeout: keep it short for quick starts.
    '--heartbeat-interval',
    '50',
    '--election-timeout',
    '250',
    '--logger',
    'zap',
    '--log-outputs',
    'stderr',
    '--log-level',
    'error',
  ];
  let child: ChildProcess;
  let output = '';
  const launch = async () => {
    output = '';
    child = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await healthy(url, child, () => output);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  };
  const kill = (signal: NodeJS.Signals = 'SIGKILL') =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  await launch();
  let copies = 0;
  return {
    url,
    dataDir,
    get pid() {
      return child.pid;
    },
    kill,
    restart: launch,
    snapshot() {
      const copy = join(root, `copy-${++copies}`);
      cpSync(dataDir, copy, { recursive: true });
      return copy;
    },
    restore(copy) {
      rmSync(dataDir, { recursive: true, force: true });
      cpSync(copy, dataDir, { recursive: true });
    },
    async stop() {
      await kill('SIGTERM');
      rmSync(root, { recursive: true, force: true });
    },
  };
}
