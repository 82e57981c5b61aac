/**
 * Several nodes, one configuration: the shared document in etcd, each node's record (its ACK or
 * NACK), the last good copy on disk, and the boot of a cluster node.
 */

export {
  clusterKeys,
  configHash,
  createEtcdClient,
  describeEtcdError,
  EtcdUnavailableError,
  toEtcdError,
} from './etcd-client.js';
export type { EtcdSourceOptions } from './etcd-source.js';
export { EtcdConfigSource } from './etcd-source.js';
export type { LastGood, LastGoodRead } from './last-good.js';
export { LAST_GOOD_FILE, lastGoodPath, readLastGood, writeLastGood } from './last-good.js';
export type { ClusterNode, NodeFile } from './node.js';
export { bootClusterNode, readNodeFile } from './node.js';
export type { NodeRecord, NodeStatus } from './record.js';
export { attentionRank, byAttention, isLagging, nodeStatuses } from './record.js';
export type { Checked, ClusterLog, ConfigTarget, InitialState, SharedRead, SharedVersion } from './shared-version.js';
export type { EtcdTarget } from './target.js';
export { DEFAULT_ENDPOINT, DEFAULT_PREFIX, ETCD_ARGS, etcdTarget, withEtcd } from './target.js';
export type { ClusterView, NodeView, SharedConfigInfo } from './view.js';
export { readClusterView } from './view.js';
