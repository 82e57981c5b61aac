/**
 * Which etcd a command talks to: a node's own file (`--node-config`, whose keys also take part in
 * the check of a pushed document), or `--etcd URL[,URL...]` with `--prefix`.
 */
import type { Etcd3 } from 'etcd3';
import type { EtcdConfig } from '../config/index.js';
import { CliError } from '../errors.js';
import { createEtcdClient, describeEtcdError, EtcdUnavailableError, toEtcdError } from './etcd-client.js';
import { readNodeFile } from './node.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';
export const DEFAULT_PREFIX = '/gatewise';
const DEFAULT_TIMEOUT_MS = 3000;

/** The arguments of every command that talks to etcd. */
export const ETCD_ARGS = {
  'node-config': {
    type: 'string',
    alias: 'n',
    description: "a node's own file: its cluster.etcd (and its keys, for the check)",
  },
  etcd: { type: 'string', description: `etcd client URLs, comma-separated (default ${DEFAULT_ENDPOINT})` },
  prefix: { type: 'string', description: `key prefix (default ${DEFAULT_PREFIX})` },
} as const;

export interface EtcdTarget {
  etcd: EtcdConfig;
  /** The node's own keys (paths made absolute), when the target came from a node file. */
  overrides?: Record<string, unknown>;
}

export async function etcdTarget(args: {
  'node-config'?: string;
  etcd?: string;
  prefix?: string;
}): Promise<EtcdTarget> {
  if (args['node-config']) {
    if (args.etcd || args.prefix) throw new CliError('give either --node-config or --etcd/--prefix, not both', 2);
    const node = await readNodeFile(args['node-config']);
    return { etcd: node.cluster.etcd, overrides: node.overrides };
  }
  const endpoints = (args.etcd || DEFAULT_ENDPOINT)
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  for (const url of endpoints) {
    let protocol = '';
    try {
      protocol = new URL(url).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:')
      throw new CliError(`--etcd: expected http:// or https:// URLs, got ${JSON.stringify(url)}`, 2);
  }
  const prefix = args.prefix || DEFAULT_PREFIX;
  if (!/^\/[^\s]*[^/\s]$|^\/$/.test(prefix))
    throw new CliError(`--prefix: expected a key prefix like /gatewise (leading /, no trailing /), got ${prefix}`, 2);
  return { etcd: { endpoints, prefix, dial_timeout: DEFAULT_TIMEOUT_MS, lease_ttl: 10000 } };
}

/**
 * Runs `fn` with a client for the target, closed afterwards. An unreachable etcd is a CliError
 * (exit 1) naming the endpoints and what to check.
 */
export async function withEtcd<T>(target: EtcdTarget, fn: (client: Etcd3) => Promise<T>): Promise<T> {
  const client = createEtcdClient(target.etcd);
  try {
    return await fn(client);
  } catch (error) {
    const failure = toEtcdError(error, target.etcd.endpoints);
    if (failure instanceof EtcdUnavailableError) throw new CliError(failure.message, 1);
    throw new CliError(`etcd at ${target.etcd.endpoints.join(', ')}: ${describeEtcdError(failure)}`, 1);
  } finally {
    client.close();
  }
}
