/**
 * Doctor on a cluster node's file: the node's keys over the shared document from etcd (or, with etcd
 * away, the node's last good copy), then the usual model of targets, plus what the cluster check
 * needs: the etcd endpoints and prefix, Redis, the node id.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { createEtcdClient, describeEtcdError, withTimeout } from '../../cluster/etcd-client.js';
import { readLastGood } from '../../cluster/last-good.js';
import { readNodeFile } from '../../cluster/node.js';
import { checkConfigText, type EtcdConfig, nodeIdOf, type RedisConfig } from '../../config/index.js';
import { formatProblem } from '../../errors.js';
import { gatewiseModel } from './gatewise-model.js';
import type { DoctorModel } from './model.js';

export interface ClusterFacts {
  nodeId: string;
  etcd: EtcdConfig;
  redis: RedisConfig | undefined;
  /** Where the shared document was read: etcd, or the last good copy with why etcd was not used. */
  source: { kind: 'etcd'; revision: number } | { kind: 'last-good'; revision: number; why: string };
}

/** Whether the file is a cluster node's own file (a `cluster.etcd` section and no upstreams of its own). */
export async function isNodeFile(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const data = parseDocument(text).toJS() as Record<string, unknown> | null;
  if (data === null || typeof data !== 'object') return false;
  const cluster = data.cluster as Record<string, unknown> | undefined;
  return cluster?.etcd !== undefined && data.upstreams === undefined;
}

export async function loadClusterModel(
  file: string,
  healthPath: string | undefined,
  fail: (message: string) => Error,
): Promise<DoctorModel & { cluster: ClusterFacts }> {
  const node = await readNodeFile(file).catch((error: Error) => {
    throw fail(error.message);
  });
  const { etcd } = node.cluster;
  const key = `${etcd.prefix.replace(/\/$/, '')}/config`;
  let text: string;
  let source: ClusterFacts['source'];
  const client = createEtcdClient(etcd);
  try {
    const got = await withTimeout(client.get(key).exec(), etcd.dial_timeout, `etcd get ${key}`);
    const kv = got.kvs[0];
    if (kv === undefined) throw new Error(`${key} does not exist (push one with gatewise config push)`);
    text = kv.value.toString();
    source = { kind: 'etcd', revision: Number(kv.mod_revision) };
  } catch (error) {
    const why = describeEtcdError(error);
    const copy = await readLastGood(node.cluster.data_dir, etcd.prefix);
    if (!copy.found) throw fail(`cannot read the shared configuration: ${why}; no last good copy either (${copy.why})`);
    text = copy.lastGood.text;
    source = { kind: 'last-good', revision: copy.lastGood.revision, why };
  } finally {
    client.close();
  }
  const label = `etcd:${key}`;
  const checked = checkConfigText(text, label, process.env, node.overrides);
  if (checked.config === undefined)
    throw fail(`the shared configuration is invalid:\n${checked.problems.map(formatProblem).join('\n')}`);
  const model = gatewiseModel(checked.config, label, text, healthPath);
  return {
    ...model,
    files: [file, label],
    cluster: { nodeId: nodeIdOf(node.cluster), etcd, redis: node.cluster.redis, source },
  };
}
