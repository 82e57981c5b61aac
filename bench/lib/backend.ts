import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fetchOnce } from './http-check.js';
import { backendConfig, nginxArgs, parseStubStatus, SMALL_BODY, type StubStatus } from './nginx.js';
import { freePort, type ManagedProcess, type ProcessGroup, waitUntilReady } from './processes.js';

/** The nginx every target forwards to, pinned to the load generator's core. */
export interface Backend {
  port: number;
  process: ManagedProcess;
  /** The exact body each path returns, to check what comes back through a proxy. */
  bodies: ReadonlyMap<string, Buffer>;
  /** Reads the backend's stub_status (one new connection per read). */
  status(): Promise<StubStatus>;
}

/** 1 MiB of bytes that are not all the same, so a truncated or shifted body cannot pass as equal. */
export function bigBody(): Buffer {
  const body = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 10)) & 0xff;
  return body;
}

export async function startBackend(group: ProcessGroup, dir: string, runAsRoot: boolean): Promise<Backend> {
  const staticRoot = `${dir}/www`;
  await mkdir(staticRoot);
  const big = bigBody();
  writeFileSync(`${staticRoot}/1m`, big);
  const port = await freePort();
  const statusPort = await freePort();
  const configFile = `${dir}/backend.conf`;
  writeFileSync(configFile, backendConfig({ dir, port, statusPort, staticRoot, runAsRoot }));
  const nginx = group.spawn('backend nginx', 'nginx', nginxArgs(dir, configFile, 'backend'), { cpus: '1' });
  const statusUrl = `http://127.0.0.1:${statusPort}/status`;
  const status = async (): Promise<StubStatus> => parseStubStatus((await fetchOnce(statusUrl, 5000)).body.toString());
  await waitUntilReady(
    nginx,
    () =>
      status().then(
        () => true,
        () => false,
      ),
    10_000,
  );
  return {
    port,
    process: nginx,
    bodies: new Map([
      ['/small', Buffer.from(SMALL_BODY)],
      ['/1m', big],
    ]),
    status,
  };
}
