/**
 * What every node says: the shared document's current revision and every node record under
 * `<prefix>/nodes/`, ordered for attention (rejecting, degraded, lagging, then healthy). Read by
 * `gatewise cluster status` and the admin `GET /api/cluster`.
 */
import type { Etcd3 } from 'etcd3';
import { clusterKeys, configHash } from './etcd-client.js';
import { byAttention, isLagging, isNodeRecord, type NodeRecord } from './record.js';

export interface SharedConfigInfo {
  revision: number;
  config_hash: string;
}

export type NodeView = NodeRecord & { lagging: boolean };

export interface ClusterView {
  /** The shared document now; null when there is none. */
  config: SharedConfigInfo | null;
  nodes: NodeView[];
  /** Records under the prefix that are not node records (named, so nothing is silently dropped). */
  unreadable: string[];
}

/** Reads the shared document's revision and every record; throws what the client throws. */
export async function readClusterView(client: Etcd3, prefix: string): Promise<ClusterView> {
  const keys = clusterKeys(prefix);
  const [config, records] = await Promise.all([
    client.get(keys.config).exec(),
    client.getAll().prefix(keys.nodes).exec(),
  ]);
  const kv = config.kvs[0];
  const shared: SharedConfigInfo | null =
    kv === undefined ? null : { revision: Number(kv.mod_revision), config_hash: configHash(kv.value.toString()) };
  const nodes: NodeRecord[] = [];
  const unreadable: string[] = [];
  for (const record of records.kvs) {
    let value: unknown;
    try {
      value = JSON.parse(record.value.toString());
    } catch {
      value = undefined;
    }
    if (isNodeRecord(value)) nodes.push(value);
    else unreadable.push(record.key.toString());
  }
  const current = shared?.revision ?? null;
  return {
    config: shared,
    nodes: nodes.sort(byAttention(current)).map((node) => ({ ...node, lagging: isLagging(node, current) })),
    unreadable,
  };
}
