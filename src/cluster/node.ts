/**
 * The boot of a cluster node: its own file (listen, admin, log, cluster), the shared document from
 * etcd with the node's keys over it, or the last good copy from data_dir when etcd cannot give one,
 * then a Service fed by the etcd source. A node with nothing valid to serve does not start (exit 2).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import {
  type ClusterConfig,
  type Config,
  checkConfigText,
  checkNodeText,
  configSchema,
  type EtcdConfig,
  nodeIdOf,
} from '../config/index.js';
import { CliError, formatProblem } from '../errors.js';
import type { LogFormat } from '../observe/index.js';
import { Service } from '../service.js';
import { describeEtcdError } from './etcd-client.js';
import { EtcdConfigSource } from './etcd-source.js';
import { lastGoodPath, readLastGood } from './last-good.js';
import type { ClusterLog, InitialState, SharedRead } from './shared-version.js';

export interface ClusterNode {
  readonly service: Service;
  readonly source: EtcdConfigSource;
  /** Leaves the cluster (the record goes), then stops the service gracefully. */
  stop(): Promise<void>;
}

const nodeSchema = configSchema.pick({ listen: true, admin: true, log: true, cluster: true });

export interface NodeFile {
  /** The node's keys with its file paths made absolute: the overrides of every shared version. */
  overrides: Record<string, unknown>;
  cluster: ClusterConfig & { etcd: EtcdConfig };
  /** Other top-level keys of the file: the shared document supplies them, so they are not used. */
  ignored: string[];
}

/**
 * Paths in the node's keys are relative to the node file; the shared document is checked under the
 * name `etcd:<key>`, so they are anchored here, before they become overrides.
 */
function anchorPaths(
  raw: Record<string, unknown>,
  file: string,
): { overrides: Record<string, unknown>; cluster: ClusterConfig } {
  const parsed = nodeSchema.parse(raw);
  const base = dirname(resolve(file));
  const overrides: Record<string, unknown> = { ...raw };
  overrides.cluster = { ...(raw.cluster as object), data_dir: resolve(base, parsed.cluster!.data_dir) };
  if (parsed.log.file !== '') overrides.log = { ...(raw.log as object), file: resolve(base, parsed.log.file) };
  if (Array.isArray(raw.listen))
    overrides.listen = raw.listen.map((listener: Record<string, unknown>) => {
      const tls = listener.tls as { cert?: string; key?: string } | undefined;
      if (tls === undefined) return listener;
      return {
        ...listener,
        tls: {
          ...tls,
          ...(tls.cert === undefined ? {} : { cert: resolve(base, tls.cert) }),
          ...(tls.key === undefined ? {} : { key: resolve(base, tls.key) }),
        },
      };
    });
  return { overrides, cluster: { ...parsed.cluster!, data_dir: resolve(base, parsed.cluster!.data_dir) } };
}

/** Records made before the service's logger exists; written to it once it does. */
class BootLog implements ClusterLog {
  readonly records: Array<{ level: 'info' | 'warn' | 'error'; record: Record<string, unknown> }> = [];
  info(record: Record<string, unknown>): void {
    this.records.push({ level: 'info', record });
  }
  warn(record: Record<string, unknown>): void {
    this.records.push({ level: 'warn', record });
  }
  error(record: Record<string, unknown>): void {
    this.records.push({ level: 'error', record });
  }
  replay(to: ClusterLog): void {
    for (const { level, record } of this.records.splice(0)) to[level](record);
  }
}

/**
 * Reads and checks a cluster node's own file (listen, admin, log, cluster with etcd); a CliError
 * (exit 1) names every problem.
 */
export async function readNodeFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 1);
  }
  const checked = checkNodeText(text, file, env);
  if (checked.raw === undefined)
    throw new CliError(`invalid configuration:\n${checked.problems.map(formatProblem).join('\n')}`, 1);
  const { overrides, cluster } = anchorPaths(checked.raw, file);
  const etcd = cluster.etcd;
  if (etcd === undefined) throw new CliError(`${file}: a cluster node file needs cluster.etcd (endpoints, prefix)`, 1);
  const keys = parseDocument(text).contents;
  const ignored = isMap(keys)
    ? keys.items
        .map((item) => String(isScalar(item.key) ? item.key.value : item.key))
        .filter((key) => !(key in overrides))
    : [];
  return { overrides, cluster: { ...cluster, etcd }, ignored };
}

/** Starts a cluster node from its file; a CliError (exit 1 for a bad file, 2 for nothing to serve). */
export async function bootClusterNode(
  file: string,
  options: { logFormat?: LogFormat | undefined; env?: NodeJS.ProcessEnv; workers?: number | undefined } = {},
): Promise<ClusterNode> {
  const env = options.env ?? process.env;
  const node = await readNodeFile(file, env);
  const { etcd, data_dir: dataDir } = node.cluster;
  const log = new BootLog();
  if (node.ignored.length > 0)
    log.warn({
      msg: 'keys of the node file not used: a cluster node takes them from the shared configuration in etcd',
      file,
      keys: node.ignored,
    });
  let service: Service | undefined;
  const source = new EtcdConfigSource({
    etcd,
    nodeId: nodeIdOf(node.cluster),
    dataDir,
    log,
    check: (shared, label) => {
      const { config, problems } = checkConfigText(shared, label, env, node.overrides);
      return config === undefined ? { problems: problems.map(formatProblem) } : { config, problems: [] };
    },
    identity: () => ({ listen: service?.gateway.addresses() ?? [], admin: service?.adminAddress ?? '' }),
    onRejected: () => service?.metrics.recordReload(false),
  });

  let boot: { config: Config; initial: InitialState };
  try {
    boot = await initialConfig(source, file, log, node.cluster);
  } catch (error) {
    await source.stop();
    throw error;
  }
  service = await Service.create({
    config: boot.config,
    logFormat: options.logFormat,
    source,
    workers: options.workers,
  });
  try {
    await service.start();
  } catch (error) {
    await source.stop();
    await service.stop();
    throw new CliError(`cannot start: ${(error as Error).message}`, 1);
  }
  const logger = service.logs.logger;
  log.replay(logger);
  source.setLog(logger);
  source.start(service, boot.initial);
  const running = service;
  return {
    service: running,
    source,
    async stop() {
      await source.stop();
      await running.stop();
    },
  };
}

/** The configuration a node starts with: etcd's, else the last good copy, else exit 2. */
async function initialConfig(
  source: EtcdConfigSource,
  file: string,
  log: ClusterLog,
  cluster: ClusterConfig & { etcd: EtcdConfig },
): Promise<{ config: Config; initial: InitialState }> {
  const { etcd, data_dir: dataDir } = cluster;
  let read: SharedRead | undefined;
  let unreachable: string | undefined;
  try {
    read = await source.read();
  } catch (error) {
    unreachable = describeEtcdError(error);
  }

  let refused: string[] | undefined;
  if (read?.version !== undefined) {
    const checked = source.check(read.version.text);
    if (checked.config !== undefined) return { config: checked.config, initial: { applied: read.version, read } };
    refused = checked.problems;
    log.error({
      msg: 'shared configuration rejected: serving the last good configuration',
      revision: read.version.revision,
      problems: refused,
    });
  }

  const found = await readLastGood(dataDir, etcd.prefix);
  let why = found.found ? '' : found.why;
  if (found.found) {
    const lastGood = found.lastGood;
    const checked = source.check(lastGood.text, lastGoodPath(dataDir));
    if (checked.config !== undefined) {
      const applied = { text: lastGood.text, revision: lastGood.revision, hash: lastGood.config_hash };
      if (read === undefined)
        log.warn({
          msg: 'etcd unreachable at start: serving the last good configuration, reconnecting',
          endpoints: etcd.endpoints,
          reason: unreachable,
          revision: lastGood.revision,
          saved_at: lastGood.saved_at,
        });
      const rejected =
        read === undefined
          ? undefined
          : {
              revision: read.version?.revision ?? null,
              problems: refused ?? [`${source.label} does not exist (deleted, or never pushed)`],
            };
      return {
        config: checked.config,
        initial: {
          applied,
          ...(read === undefined ? { unreachable } : { read }),
          ...(rejected === undefined ? {} : { rejected }),
        },
      };
    }
    why = `the last good configuration in ${lastGoodPath(dataDir)} no longer passes the check:\n${checked.problems.join('\n')}`;
  }

  const push = `gatewise config push FILE --node-config ${file}`;
  if (read === undefined)
    throw new CliError(
      `cannot reach etcd at ${etcd.endpoints.join(', ')}: ${unreachable}\n` +
        `and ${why}, so this node has nothing to serve.\n` +
        `Start etcd there (or fix cluster.etcd.endpoints in ${file}) and start the node again; ` +
        `a node that has run with etcd keeps a last good configuration and can then start without it.`,
      2,
    );
  if (refused !== undefined)
    throw new CliError(
      `the shared configuration ${source.label} (revision ${read.version!.revision}) is invalid:\n` +
        `${refused.join('\n')}\n` +
        `and ${why}, so this node has nothing to serve. Fix it and push it again: ${push}`,
      2,
    );
  throw new CliError(
    `etcd at ${etcd.endpoints.join(', ')} has no shared configuration at ${source.keys.config}\n` +
      `and ${why}, so this node has nothing to serve. Push one first: ${push}`,
    2,
  );
}
