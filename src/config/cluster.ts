import { hostname } from 'node:os';
import { z } from 'zod';
import { duration, expected, filePath, text } from './fields.js';

/**
 * The `cluster` section of a node's own file: where the shared configuration lives (etcd), where
 * shared state lives (Redis), and where this node keeps its last good configuration.
 */

const url = (schemes: readonly string[]) =>
  z.string({ error: expected('a URL') }).refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    {
      error: (issue) =>
        `expected a ${schemes.map((s) => `${s}//`).join(' or ')} URL, got ${JSON.stringify(issue.input)}`,
    },
  );

export const etcdSchema = z.strictObject({
  endpoints: z
    .array(url(['http:', 'https:']))
    .min(1, { error: 'etcd needs at least one endpoint' })
    .describe('etcd client URLs (http://127.0.0.1:2379).'),
  prefix: z
    .string({ error: expected('a key prefix') })
    .regex(/^\/[^\s]*[^/\s]$|^\/$/, { error: 'expected a key prefix like /gatewise (leading /, no trailing /)' })
    .prefault('/gatewise')
    .describe('Keys: <prefix>/config (the shared document), <prefix>/nodes/<node_id> (each node record).'),
  dial_timeout: duration().prefault('2s').describe('Connect and call timeout of etcd requests.'),
  lease_ttl: duration(1000).prefault('10s').describe('TTL of the lease that keeps this node record alive.'),
});

export const redisSchema = z.strictObject({
  url: url(['redis:', 'rediss:']).describe('redis://host:6379 (rediss:// for TLS).'),
  command_timeout: duration()
    .prefault('200ms')
    .describe('A command without an answer in this time fails: the local fallback applies.'),
  prefix: text().prefault('gatewise:').describe('Prefix of every Redis key and channel.'),
});

export const clusterSchema = z.strictObject({
  node_id: text().optional().describe('This node in records, metrics and hints; omitted = hostname-pid.'),
  etcd: etcdSchema.optional().describe('The shared configuration source; omitted = this file is the whole config.'),
  redis: redisSchema.optional().describe('Shared state (cluster rate limits, ejection hints, alert de-duplication).'),
  data_dir: filePath().prefault('.gatewise').describe('Where the last good shared configuration is kept.'),
  hint_for: duration().prefault('30s').describe("Longest time another node's ejection hint keeps a server out here."),
});

/** The node's id: as configured, or hostname-pid. */
export function nodeIdOf(cluster: ClusterConfig): string {
  return cluster.node_id ?? `${hostname()}-${process.pid}`;
}

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type EtcdConfig = z.infer<typeof etcdSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
