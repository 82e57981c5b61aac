/** Helpers for the doctor tests: temporary configurations, a real child process that listens, finding lookups. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PORT_TYPO_DISTANCE } from '../../../src/diagnose/doctor/checks/wrong-address.js';
import { type DoctorFinding, type DoctorReport, readSocketTable } from '../../../src/diagnose/doctor/index.js';
import {
  type StartedUpstream,
  startUpstream,
  type UpstreamBehaviour,
  type UpstreamOptions,
} from '../../../src/drill/upstreams.js';

export function tempDir(t: TestContext, prefix = 'gatewise-doctor-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function upstream(
  t: TestContext,
  behaviour: UpstreamBehaviour,
  options: UpstreamOptions = {},
): Promise<StartedUpstream> {
  const started = await startUpstream(behaviour, options);
  t.after(() => started.close());
  return started;
}

export interface UpstreamSpec {
  /** Server URLs; `backup:` marks a backup server. */
  servers: Array<string | { backup: string }>;
  /** YAML lines inside the upstream, indented by four spaces. */
  extra?: string;
}

/** A Gatewise configuration with one route per upstream; listens on a port nothing uses (doctor never starts it). */
export function gatewiseConfig(t: TestContext, upstreams: Record<string, UpstreamSpec>, dir = tempDir(t)): string {
  const lines = ['listen:', '  - address: 127.0.0.1:0', 'admin:', '  address: 127.0.0.1:0', 'upstreams:'];
  for (const [name, spec] of Object.entries(upstreams)) {
    lines.push(`  ${name}:`, '    servers:');
    for (const server of spec.servers)
      lines.push(
        typeof server === 'string' ? `      - url: ${server}` : `      - { url: ${server.backup}, backup: true }`,
      );
    if (spec.extra) lines.push(spec.extra);
  }
  lines.push('routes:');
  for (const name of Object.keys(upstreams)) lines.push(`  - match: { path: /${name} }`, `    upstream: ${name}`);
  const file = join(dir, 'gatewise.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** An nginx configuration file (not started): `http` holds the http block's content. */
export function nginxConfig(t: TestContext, http: string, main = '', dir = tempDir(t)): string {
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, `${main}\nevents { worker_connections 64; }\nhttp {\n${http}\n}\n`);
  return file;
}

export function findingsOf(report: DoctorReport, check: string, target?: string): DoctorFinding[] {
  return report.findings.filter(
    (found) => found.check === check && (target === undefined || (found.target ?? '').includes(target)),
  );
}

/** The one finding of a check about a target at a severity other than ok; fails the test with the report otherwise. */
export function problemOf(report: DoctorReport, check: string, target: string): DoctorFinding {
  const found = findingsOf(report, check, target).filter((entry) => entry.severity !== 'ok');
  if (found.length !== 1)
    throw new Error(
      `expected one ${check} problem for ${target}, got ${found.length}:\n${JSON.stringify(report.findings, null, 2)}`,
    );
  return found[0]!;
}

export interface ChildListener {
  child: ChildProcess;
  pid: number;
  port: number;
}

/** A real `node` child process listening on 127.0.0.1, so that /proc maps the port to its pid. */
export async function childListener(t: TestContext): Promise<ChildListener> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log(this.address().port)})",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  return { child, pid: child.pid!, port };
}

/** Whether nothing listens on the port (it can be bound, and is released at once). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port where nothing listens and no listener sits within the typo distance: doctor can only say
 * "nothing listens" there, never guess a wrong port (with two far listeners, see farListeners).
 */
export async function lonelyRefusingPort(t: TestContext): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const refusing = await upstream(t, 'refuse');
    const port = refusing.port;
    if (readSocketTable().tcp.some((listener) => Math.abs(listener.port - port) <= PORT_TYPO_DISTANCE)) continue;
    return port;
  }
  throw new Error('no refusing port without neighbours found');
}

/** A child listener whose next port is free: the "wrong port" a configuration can point at. */
export async function childWithFreeNextPort(t: TestContext): Promise<ChildListener> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const candidate = await childListener(t);
    if (await portIsFree(candidate.port + 1)) return candidate;
    candidate.child.kill('SIGKILL');
  }
  throw new Error('no child listener with a free next port');
}
