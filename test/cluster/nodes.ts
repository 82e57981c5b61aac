/**
 * A cluster for tests: gateway nodes as separate `gatewise serve` processes, each with its own node
 * file (ports, node id, data directory) pointing at one etcd, plus helpers to read what they serve.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type RunningCli, runCli, startCli } from '../support/cli.js';
import { freePort } from '../support/nginx.js';

export interface TestNode {
  readonly id: string;
  readonly file: string;
  readonly dir: string;
  readonly port: number;
  readonly adminPort: number;
  cli: RunningCli;
  /** Starts the node's process (again); waits until it serves. */
  start(): Promise<void>;
}

/** Writes a node file for `etcdUrl` in a fresh directory (its data_dir is the default, inside it). */
export async function makeNode(t: TestContext, id: string, etcdUrl: string, extra = ''): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), `gatewise-${id}-`));
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(dir, 'node.yaml');
  writeFileSync(
    file,
    `listen: [{ address: 127.0.0.1:${port} }]
admin: { address: 127.0.0.1:${adminPort} }
log: { access: false }
cluster:
  node_id: ${id}
  etcd: { endpoints: [${etcdUrl}], prefix: /gatewise, dial_timeout: 1s, lease_ttl: 5s }
${extra}`,
  );
  const node: TestNode = {
    id,
    file,
    dir,
    port,
    adminPort,
    cli: undefined as unknown as RunningCli,
    async start() {
      node.cli = startCli(['serve', '--config', file]);
      const cli = node.cli;
      t.after(() => cli.stop('SIGKILL'));
      await cli.waitFor(/gatewise started/, 15000);
    },
  };
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return node;
}

/** Writes a shared document to a temporary file and pushes it with `gatewise config push`; its revision. */
export async function push(t: TestContext, etcdUrl: string, text: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-shared-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'shared.yaml');
  writeFileSync(file, text);
  const result = await runCli(['config', 'push', file, '--etcd', etcdUrl]);
  if (result.code !== 0) throw new Error(`config push failed: ${result.stderr}`);
  const revision = /revision (\d+)/.exec(result.stdout)?.[1];
  return Number(revision);
}

/** A GET through a node's listener: the status and body (or the error's code). */
export function get(agent: http.Agent, port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => resolve({ status: 0, body: String(error) }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: error.code ?? String(error) }));
  });
}

/** Polls until `check` passes or `timeoutMs` elapses; returns the elapsed milliseconds. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A node's own view: admin GET /api/cluster. */
export async function clusterApi(
  node: TestNode,
): Promise<{ node: { status: string; applied_revision: number | null; error: string | null } }> {
  const response = await fetch(`http://127.0.0.1:${node.adminPort}/api/cluster`);
  return (await response.json()) as { node: { status: string; applied_revision: number | null; error: string | null } };
}
