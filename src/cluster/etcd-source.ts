/**
 * The shared configuration from etcd. A node reads `<prefix>/config`, then watches it from the next
 * revision; each new version is checked like `gatewise check` and, when valid, applied like a hot
 * reload. Its record at `<prefix>/nodes/<node_id>` (on a lease) says what it serves and why.
 *
 * etcd going away never touches the request path: the node keeps what it serves, warns once,
 * reconnects with back-off and catches up by reading the key again. Every (re)connection starts
 * with a full read and a watch from that read's revision + 1, so a compacted revision (the watch is
 * canceled by etcd) or a revision going backwards (etcd restored from a backup) is one more re-read.
 */
import { hostname } from 'node:os';
import type { Etcd3, Watcher } from 'etcd3';
import type { EtcdConfig } from '../config/index.js';
import type { ReloadResult } from '../service.js';
import { closeWatch, openWatch } from './config-watch.js';
import { clusterKeys, createEtcdClient, describeEtcdError, toEtcdError, withTimeout } from './etcd-client.js';
import { writeLastGood } from './last-good.js';
import type { NodeRecord } from './record.js';
import { RecordKeeper } from './record-keeper.js';
import {
  type Checked,
  type ClusterLog,
  type ConfigTarget,
  type InitialState,
  type SharedRead,
  type SharedVersion,
  sameVersion,
  versionOf,
} from './shared-version.js';
import { type ClusterView, readClusterView } from './view.js';

export interface EtcdSourceOptions {
  etcd: EtcdConfig;
  nodeId: string;
  dataDir: string;
  /** The check of `gatewise check`, with this node's own keys over the document; `file` names it. */
  check(text: string, file: string): Checked;
  log: ClusterLog;
  /** Where this node serves, for its record. */
  identity(): { listen: string[]; admin: string };
  /** Called for every refused version (the reload metric counts it). */
  onRejected?(): void;
  /** Reconnection back-off: first delay, doubled up to the cap. */
  backoff?: { initialMs: number; maxMs: number };
}

/** A node reconnects quickly: a push made just after etcd's return must reach it within seconds. */
const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 1000 };

export class EtcdConfigSource {
  readonly client: Etcd3;
  readonly keys: ReturnType<typeof clusterKeys>;
  private log: ClusterLog;
  private target: ConfigTarget | undefined;
  private watcher: Watcher | undefined;
  private readonly keeper: RecordKeeper;
  private connected = false;
  private stopped = false;
  private unreachableSince: string | undefined;
  private unreachableReason = '';
  /** Highest etcd revision seen: a read below it means etcd was restored from a backup. */
  private storeRevision = 0;
  private applied: SharedVersion | undefined;
  /** The newest version handled (applied or refused), or null when the key was found missing. */
  private seen: SharedVersion | null | undefined;
  private rejected: { revision: number | null; problems: string[] } | undefined;
  private updatedAt = new Date().toISOString();
  private readonly startedAt = new Date().toISOString();
  private queue: Promise<unknown> = Promise.resolve();
  private latestOffer = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private resyncing: Promise<void> | undefined;

  constructor(private readonly options: EtcdSourceOptions) {
    this.client = createEtcdClient(options.etcd);
    this.keys = clusterKeys(options.etcd.prefix);
    this.log = options.log;
    this.backoffMs = (options.backoff ?? DEFAULT_BACKOFF).initialMs;
    this.keeper = new RecordKeeper({
      client: this.client,
      key: this.keys.node(options.nodeId),
      leaseTtlMs: options.etcd.lease_ttl,
      callMs: options.etcd.dial_timeout,
      endpoints: options.etcd.endpoints,
      canWrite: () => this.connected && !this.stopped && this.target !== undefined,
      record: () => this.record(),
      trouble: (error) => this.trouble(error),
    });
  }

  /** `etcd:<prefix>/config`: how problems and logs name the shared document. */
  get label(): string {
    return `etcd:${this.keys.config}`;
  }

  /** The check of `gatewise check`, with this node's own keys over the document. */
  check(text: string, file: string = this.label): Checked {
    return this.options.check(text, file);
  }

  /** Logs go here from now on (the service's logger, once it exists). */
  setLog(log: ClusterLog): void {
    this.log = log;
  }

  /** Reads the shared document once; an unreachable etcd is an EtcdUnavailableError. */
  async read(): Promise<SharedRead> {
    try {
      const response = await this.client.get(this.keys.config).exec();
      const kv = response.kvs[0];
      return { version: kv === undefined ? undefined : versionOf(kv), storeRevision: Number(response.header.revision) };
    } catch (error) {
      throw toEtcdError(error, this.options.etcd.endpoints);
    }
  }

  /** Starts following etcd from the state the node boots with. */
  start(target: ConfigTarget, initial: InitialState): void {
    this.target = target;
    this.applied = initial.applied;
    this.rejected = initial.rejected;
    this.seen = initial.read === undefined ? initial.applied : (initial.read.version ?? null);
    if (initial.read === undefined) {
      this.unreachableSince = new Date().toISOString();
      this.unreachableReason = initial.unreachable ?? 'unreachable';
      this.scheduleReconnect();
    } else {
      this.storeRevision = initial.read.storeRevision;
      this.connected = true;
      const fromEtcd = initial.read.version !== undefined && initial.read.version.hash === initial.applied.hash;
      const watchFrom = initial.read.storeRevision + 1;
      void (fromEtcd ? this.saveLastGood(initial.applied) : Promise.resolve())
        .then(() => this.watchFrom(watchFrom))
        .then(
          () => this.keeper.write(),
          (error: unknown) => this.trouble(error),
        );
    }
  }

  /** This node's record, as it stands. */
  record(): NodeRecord {
    const rejected = this.rejected;
    const degraded = !this.connected;
    const errors: string[] = [];
    if (degraded) errors.push(`etcd unreachable since ${this.unreachableSince}: ${this.unreachableReason}`);
    if (rejected !== undefined) errors.push(...rejected.problems);
    const identity = this.options.identity();
    return {
      node_id: this.options.nodeId,
      status: degraded ? 'degraded' : rejected !== undefined ? 'rejected' : 'ok',
      applied_revision: this.applied?.revision ?? null,
      config_hash: this.applied?.hash ?? null,
      error: errors.length > 0 ? errors.join('\n') : null,
      problems: rejected?.problems ?? [],
      rejected_revision: rejected?.revision ?? null,
      seen_revision: this.seen?.revision ?? this.applied?.revision ?? null,
      updated_at: this.updatedAt,
      started_at: this.startedAt,
      hostname: hostname(),
      pid: process.pid,
      listen: identity.listen,
      admin: identity.admin,
    };
  }

  /** This node's record and every node's (admin `GET /api/cluster`). */
  async cluster(): Promise<{ node: NodeRecord; error?: string } & Partial<ClusterView>> {
    const node = this.record();
    try {
      return {
        node,
        ...(await withTimeout(readClusterView(this.client, this.options.etcd.prefix), this.callMs, 'etcd')),
      };
    } catch (error) {
      return { node, error: `cannot read the cluster from etcd: ${describeEtcdError(error)}` };
    }
  }

  /**
   * Reads the shared document again and applies it even when unchanged (`gatewise reload`, SIGHUP);
   * with etcd out of reach, nothing changes.
   */
  async reload(): Promise<ReloadResult> {
    let read: SharedRead;
    try {
      read = await this.read();
    } catch (error) {
      const problems = [`${describeEtcdError(error)}: still serving revision ${this.applied?.revision ?? 'none'}`];
      this.log.error({ msg: 'reload refused: the running configuration stays', problems });
      return { ok: false, problems };
    }
    return (await this.enqueue(read.version ?? null, true)) ?? { ok: false, problems: ['the node is stopping'] };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.queue;
    await this.dropWatcher();
    // Revoking the lease removes the record at once: a stopped node leaves the status table now.
    await this.keeper.leave(this.connected);
    this.client.close();
  }

  private get callMs(): number {
    return this.options.etcd.dial_timeout;
  }

  // --- versions ---

  /**
   * Handles versions one at a time, in order. A version overtaken by a newer one is skipped, and one
   * already handled is not handled again unless forced: both resolve to undefined.
   */
  private enqueue(version: SharedVersion | null, force = false): Promise<ReloadResult | undefined> {
    const offer = ++this.latestOffer;
    const run = this.queue.then(async (): Promise<ReloadResult | undefined> => {
      if (offer !== this.latestOffer && !force) return undefined;
      try {
        return await this.handle(version, force);
      } catch (error) {
        // Service.apply reports its own failures; anything else is a fault of this node, not of the version.
        const problems = [`cannot apply revision ${version?.revision}: ${(error as Error).message}`];
        this.log.error({ msg: 'shared configuration not applied: the running configuration stays', problems });
        return { ok: false, problems };
      }
    });
    this.queue = run;
    return run;
  }

  private async handle(version: SharedVersion | null, force: boolean): Promise<ReloadResult | undefined> {
    if (this.stopped || this.target === undefined) return { ok: false, problems: ['the node is stopping'] };
    if (!force && this.seen !== undefined && sameVersion(this.seen, version)) return undefined;
    this.seen = version;
    if (version === null) {
      const problems = [
        `${this.label} does not exist (deleted, or never pushed): still serving revision ${this.applied?.revision ?? 'none'}`,
      ];
      this.log.warn({ msg: 'shared configuration missing: the running configuration stays', problems });
      this.refuse(null, problems);
      return { ok: false, problems };
    }
    // The same text again (pushed again, or etcd restored): the same configuration, nothing to swap.
    if (!force && this.applied?.hash === version.hash) {
      this.applied = version;
      this.rejected = undefined;
      await this.saveLastGood(version);
      this.changed();
      return undefined;
    }
    const checked = this.check(version.text);
    const result: ReloadResult =
      checked.config === undefined
        ? { ok: false, problems: checked.problems }
        : await this.target.apply(checked.config, `${this.label}@${version.revision}`);
    if (!result.ok) {
      this.log.error({
        msg: 'shared configuration rejected: the running configuration stays',
        revision: version.revision,
        serving_revision: this.applied?.revision ?? null,
        problems: result.problems,
      });
      this.refuse(version.revision, result.problems);
      return result;
    }
    this.applied = version;
    this.rejected = undefined;
    // Saved before the record says so: a record at a revision means the copy on disk has it too.
    await this.saveLastGood(version);
    this.changed();
    return result;
  }

  private refuse(revision: number | null, problems: string[]): void {
    this.rejected = { revision, problems };
    this.options.onRejected?.();
    this.changed();
  }

  /** State changed: the record says so (when etcd can hear it). */
  private changed(): void {
    this.updatedAt = new Date().toISOString();
    void this.keeper.write();
  }

  private async saveLastGood(version: SharedVersion): Promise<void> {
    try {
      await writeLastGood(this.options.dataDir, {
        prefix: this.options.etcd.prefix,
        revision: version.revision,
        config_hash: version.hash,
        saved_at: new Date().toISOString(),
        text: version.text,
      });
    } catch (error) {
      this.log.warn({
        msg: 'cannot save the last good configuration: a restart without etcd would have nothing to serve',
        data_dir: this.options.dataDir,
        error: (error as Error).message,
      });
    }
  }

  // --- etcd connection ---

  private async watchFrom(revision: number): Promise<void> {
    await this.dropWatcher();
    this.watcher = await openWatch(this.client, this.keys.config, revision, this.callMs, {
      put: (kv) => {
        this.storeRevision = Math.max(this.storeRevision, Number(kv.mod_revision));
        void this.enqueue(versionOf(kv));
      },
      delete: () => void this.enqueue(null),
      disconnected: (error) => this.trouble(error),
      canceled: (error) => {
        this.log.warn({ msg: 'etcd canceled the watch: reading the shared configuration again', error: error.message });
        void this.resync().catch((failure: unknown) => this.trouble(failure));
      },
    });
  }

  private async dropWatcher(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher !== undefined) await closeWatch(watcher, this.callMs);
  }

  /** etcd is out of reach: one warning per state change, then reconnect with back-off. */
  private trouble(error: unknown): void {
    if (this.stopped) return;
    const reason = describeEtcdError(error);
    void this.dropWatcher();
    if (this.connected) {
      this.connected = false;
      this.unreachableSince = new Date().toISOString();
      this.unreachableReason = reason;
      this.updatedAt = this.unreachableSince;
      this.log.warn({
        msg: 'etcd unreachable: serving the running configuration, reconnecting',
        endpoints: this.options.etcd.endpoints,
        reason,
        applied_revision: this.applied?.revision ?? null,
      });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(backoff.maxMs, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.resync().catch((error: unknown) => {
        if (this.stopped) return;
        this.unreachableReason = describeEtcdError(error);
        this.scheduleReconnect();
      });
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Full re-read and re-watch: after a reconnect, a canceled watch or a restored etcd (one at a time). */
  private resync(): Promise<void> {
    this.resyncing ??= this.readAndWatch().finally(() => {
      this.resyncing = undefined;
    });
    return this.resyncing;
  }

  private async readAndWatch(): Promise<void> {
    if (this.stopped) return;
    const read = await this.read();
    if (read.storeRevision < this.storeRevision)
      this.log.warn({
        msg: "etcd's revision went backwards (restored from a backup?): the shared configuration is read again",
        was: this.storeRevision,
        now: read.storeRevision,
      });
    this.storeRevision = read.storeRevision;
    const handled = this.enqueue(read.version ?? null);
    await this.watchFrom(read.storeRevision + 1);
    if (!this.connected) {
      this.connected = true;
      this.backoffMs = (this.options.backoff ?? DEFAULT_BACKOFF).initialMs;
      this.log.info({
        msg: 'etcd reachable again: caught up with the shared configuration',
        endpoints: this.options.etcd.endpoints,
        revision: read.version?.revision ?? null,
        unreachable_since: this.unreachableSince,
      });
      this.unreachableSince = undefined;
      this.updatedAt = new Date().toISOString();
    }
    await handled;
    await this.keeper.write();
  }
}
