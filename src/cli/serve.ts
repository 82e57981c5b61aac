import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { defineCommand } from 'citty';
import { parseDocument } from 'yaml';
import { type Config, loadConfigFile } from '../config/index.js';
import { CliError, ConfigError } from '../errors.js';
import type { LogFormat } from '../observe/index.js';
import { Service } from '../service.js';

/** `gatewise serve [--config F]`: run the gateway; without a config, the built-in demo. */
export default defineCommand({
  meta: { name: 'serve', description: 'Run the gateway (no --config: the built-in demo)' },
  args: {
    config: { type: 'string', alias: 'c', description: 'configuration file' },
    'log-format': { type: 'enum', options: ['json', 'pretty'], description: 'log format (overrides log.format)' },
    workers: {
      type: 'string',
      alias: 'w',
      description: 'worker processes serving the requests: a number, or auto (one per CPU); default none',
    },
  },
  async run({ args }): Promise<number> {
    const logFormat = args['log-format'] as LogFormat | undefined;
    const workers = workerCount(args.workers);
    if (!args.config) {
      if (workers !== undefined)
        throw new CliError('--workers needs --config (the built-in demo runs in one process)', 1);
      const { runDemo } = await import('../demo/run.js');
      return runDemo(logFormat);
    }
    if (await isClusterNodeFile(args.config)) {
      const { bootClusterNode } = await import('../cluster/index.js');
      const node = await bootClusterNode(args.config, { logFormat, workers });
      return runUntilSignal(node.service, () => node.source.stop());
    }
    let config: Config;
    try {
      config = await loadConfigFile(args.config);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(`invalid configuration:\n${error.message}`, 1);
      throw error;
    }
    const service = await Service.create({ config, configFile: args.config, logFormat, workers });
    try {
      await service.start();
    } catch (error) {
      await service.stop();
      throw new CliError(`cannot start: ${(error as Error).message}`, 1);
    }
    return runUntilSignal(service);
  },
});

/** `--workers N|auto`: at least one; auto = the CPUs this process may use. */
export function workerCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new CliError(`--workers must be a whole number from 1 to 1024, or auto (got "${value}")`, 1);
  return n;
}

/**
 * A file with `cluster.etcd` is a cluster node's own file: its configuration comes from etcd. (Read
 * here, so that an ordinary serve does not load the etcd client.)
 */
async function isClusterNodeFile(file: string): Promise<boolean> {
  try {
    return parseDocument(await readFile(file, 'utf8')).hasIn(['cluster', 'etcd']);
  } catch {
    return false; // unreadable: the ordinary load names the problem
  }
}

/**
 * Serves until SIGTERM/SIGINT (graceful stop), reloading on SIGHUP. `before` runs first on stop
 * (a cluster node leaves the cluster before it stops serving).
 */
export function runUntilSignal(service: Service, before?: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void Promise.resolve(before?.())
        .catch((error: unknown) =>
          service.logs.logger.warn({ msg: 'could not leave the cluster cleanly', error: String(error) }),
        )
        .then(() => service.stop())
        .then(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      void service.reload();
    });
  });
}
