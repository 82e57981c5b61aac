import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TargetName } from './args.js';
import { gatewiseConfig } from './gatewise.js';
import { answersHttp } from './http-check.js';
import { nginxArgs, proxyConfig } from './nginx.js';
import { freePort, type ManagedProcess, type ProcessGroup, waitUntilReady } from './processes.js';

/** What a target needs to start for one scenario. */
export interface TargetEnv {
  dir: string;
  repoRoot: string;
  backendPort: number;
  scenarioName: string;
  /** The scenario's concurrency: the Node peers size their upstream pools to it. */
  connections: number;
  /** When set, Node targets run with `--cpu-prof` and write their profiles here. */
  cpuProfDir: string | null;
  group: ProcessGroup;
  runAsRoot: boolean;
}

/** A target ready for load: where to send it, and the process to measure (none for `direct`). */
export interface StartedTarget {
  port: number;
  process: ManagedProcess | undefined;
}

export interface TargetDefinition {
  name: TargetName;
  label: string;
  /** Why this target cannot run here at all (checked before starting), or undefined. */
  unavailable?(env: TargetEnv): string | undefined;
  start(env: TargetEnv): Promise<StartedTarget>;
}

/** Upstream keep-alive pool of the nginx proxy; PERF-NOTES.md shows the effect of 256 at 256 connections. */
export const NGINX_KEEPALIVE = 64;
/** Gatewise's idle upstream pool: the largest scenario's concurrency. */
export const GATEWISE_MAX_IDLE = 256;

const PROXY_CPUS = '0';
const READY_TIMEOUT_MS = 15_000;

/**
 * `serve --workers 2` gets both cores, the second shared with wrk and the backend (PERF-NOTES rule
 * 11: on two cores this shows what a second worker brings here, not how the gateway scales).
 */
const ALL_CPUS = '0,1';

async function startProcess(
  env: TargetEnv,
  name: string,
  command: string,
  args: (port: number) => string[],
  cpus = PROXY_CPUS,
): Promise<StartedTarget> {
  const port = await freePort();
  const child = env.group.spawn(name, command, args(port), { cpus, cwd: env.repoRoot });
  await waitUntilReady(child, () => answersHttp(`http://127.0.0.1:${port}/small`), READY_TIMEOUT_MS);
  return { port, process: child };
}

/** Node flags for a target: a CPU profile per target and scenario when profiling was asked for. */
export function nodeFlags(env: TargetEnv, name: TargetName): string[] {
  if (env.cpuProfDir === null) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${env.cpuProfDir}`, `--cpu-prof-name=${name}-${env.scenarioName}.cpuprofile`];
}

function peer(name: TargetName, label: string, script: string): TargetDefinition {
  const file = fileURLToPath(new URL(`../peers/${script}`, import.meta.url));
  return {
    name,
    label,
    start: (env) =>
      startProcess(env, label, process.execPath, (port) => [
        ...nodeFlags(env, name),
        file,
        '--port',
        String(port),
        '--upstream',
        `http://127.0.0.1:${env.backendPort}`,
        '--connections',
        String(env.connections),
      ]),
  };
}

function gatewise(name: TargetName, label: string, accessLog: boolean, workers?: number): TargetDefinition {
  return {
    name,
    label,
    unavailable: (env) => (existsSync(`${env.repoRoot}/dist/src/cli/main.js`) ? undefined : 'not built'),
    start: async (env) => {
      const configFile = `${env.dir}/${name}-${env.connections}.yaml`;
      const adminPort = await freePort();
      return startProcess(
        env,
        label,
        process.execPath,
        (port) => {
          writeFileSync(
            configFile,
            gatewiseConfig({
              port,
              adminPort,
              backendPort: env.backendPort,
              accessLogFile: accessLog ? `${env.dir}/${name}-${env.connections}-access.log` : null,
              maxIdle: GATEWISE_MAX_IDLE,
            }),
          );
          const serve = [`${env.repoRoot}/bin/gatewise.js`, 'serve', '--config', configFile];
          return [...nodeFlags(env, name), ...serve, ...(workers ? ['--workers', String(workers)] : [])];
        },
        workers !== undefined && workers > 1 ? ALL_CPUS : PROXY_CPUS,
      );
    },
  };
}

/** Every target, in table order (the same order as TARGET_NAMES). */
export const TARGETS: readonly TargetDefinition[] = [
  {
    name: 'direct',
    label: 'direct (no proxy)',
    start: async (env) => ({ port: env.backendPort, process: undefined }),
  },
  {
    name: 'nginx',
    label: 'nginx (access_log off)',
    start: (env) =>
      startProcess(env, 'nginx', 'nginx', (port) => {
        const configFile = `${env.dir}/proxy-${env.connections}.conf`;
        writeFileSync(
          configFile,
          proxyConfig({
            dir: env.dir,
            port,
            backendPort: env.backendPort,
            keepalive: NGINX_KEEPALIVE,
            runAsRoot: env.runAsRoot,
          }),
        );
        return nginxArgs(env.dir, configFile, `proxy-${env.connections}`);
      }),
  },
  gatewise('gatewise', 'gatewise', true),
  gatewise('gatewise-nolog', 'gatewise (access log off)', false),
  gatewise('gatewise-w1', 'gatewise --workers 1', true, 1),
  gatewise('gatewise-w2', 'gatewise --workers 2 (2 cores)', true, 2),
  peer('undici', 'undici Pool.stream', 'undici-stream.js'),
  peer('reply-from', '@fastify/reply-from', 'reply-from.js'),
  peer('http-proxy', 'http-proxy', 'http-proxy.js'),
];
