/** The values the etcd config source deals in: versions of the shared document, reads, checks. */
import type { IKeyValue } from 'etcd3';
import type { Config } from '../config/index.js';
import type { ReloadResult } from '../service.js';
import { configHash } from './etcd-client.js';

/** What the source applies versions to: a Service. */
export interface ConfigTarget {
  apply(config: Config, origin: string): Promise<ReloadResult>;
}

/** Where the source writes its records (pino's logger fits). */
export interface ClusterLog {
  info(record: Record<string, unknown>): void;
  warn(record: Record<string, unknown>): void;
  error(record: Record<string, unknown>): void;
}

/** One version of the shared document. */
export interface SharedVersion {
  text: string;
  /** etcd mod revision of the key. */
  revision: number;
  hash: string;
}

/** A read of the key: the version (undefined when the key does not exist) and etcd's revision then. */
export interface SharedRead {
  version: SharedVersion | undefined;
  storeRevision: number;
}

export interface Checked {
  config?: Config;
  /** `file:line:col: message` each. */
  problems: string[];
}

/** How the node starts serving: the version in force, and whether the newest one was refused. */
export interface InitialState {
  applied: SharedVersion;
  /** A read made at boot (the node is connected); undefined when etcd was out of reach. */
  read?: SharedRead;
  /** Problems of the newest version, when it was refused (or missing). */
  rejected?: { revision: number | null; problems: string[] };
  /** Why etcd was out of reach at boot. */
  unreachable?: string;
}

export function versionOf(kv: IKeyValue): SharedVersion {
  const text = kv.value.toString();
  return { text, revision: Number(kv.mod_revision), hash: configHash(text) };
}

export function sameVersion(a: SharedVersion | null, b: SharedVersion | null): boolean {
  return a === null || b === null ? a === b : a.revision === b.revision && a.hash === b.hash;
}
