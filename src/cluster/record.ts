/**
 * A node's record at `<prefix>/nodes/<node_id>`: its ACK or NACK of the shared configuration, kept
 * alive by a lease so that a node that is gone disappears. Operators, `gatewise cluster status`
 * and `gatewise doctor` read it.
 */

export const nodeStatuses = ['ok', 'rejected', 'degraded'] as const;

/**
 * `ok`: serving the newest version it saw. `rejected`: the newest version failed the check (or
 * could not be applied) and the node serves an older one. `degraded`: etcd is out of reach and
 * the node serves what it had (or its last good copy from data_dir).
 */
export type NodeStatus = (typeof nodeStatuses)[number];

export interface NodeRecord {
  node_id: string;
  status: NodeStatus;
  /** etcd mod revision of the configuration being served; null before any (never, once serving). */
  applied_revision: number | null;
  /** Hash of the served document's text (configHash). */
  config_hash: string | null;
  /** Why the status is not ok, in one text (problems joined by newlines); null when ok. */
  error: string | null;
  /** Each `file:line:col: message` of a rejected version. */
  problems: string[];
  /** The revision that was rejected, when status is rejected. */
  rejected_revision: number | null;
  /** Newest revision of the shared document this node has seen. */
  seen_revision: number | null;
  updated_at: string;
  started_at: string;
  hostname: string;
  pid: number;
  listen: string[];
  admin: string;
}

/** Is a parsed JSON value a node record (as much as `cluster status` needs)? */
export function isNodeRecord(value: unknown): value is NodeRecord {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Partial<NodeRecord>;
  return (
    typeof record.node_id === 'string' &&
    typeof record.status === 'string' &&
    (record.applied_revision === null || typeof record.applied_revision === 'number')
  );
}

/**
 * A node not serving the shared document's current revision: behind it, or (after etcd was
 * restored from a backup) ahead of it.
 */
export function isLagging(record: NodeRecord, currentRevision: number | null): boolean {
  return currentRevision !== null && record.applied_revision !== currentRevision;
}

/** Order of attention: rejecting, then degraded, then lagging, then healthy; by node id within each. */
export function attentionRank(record: NodeRecord, currentRevision: number | null): number {
  if (record.status === 'rejected') return 0;
  if (record.status === 'degraded') return 1;
  if (isLagging(record, currentRevision)) return 2;
  return record.status === 'ok' ? 3 : 1;
}

export function byAttention(currentRevision: number | null): (a: NodeRecord, b: NodeRecord) => number {
  return (a, b) =>
    attentionRank(a, currentRevision) - attentionRank(b, currentRevision) || a.node_id.localeCompare(b.node_id);
}
