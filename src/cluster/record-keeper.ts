/**
 * Keeps this node's record in etcd: put on a lease (so a node that goes silent disappears after
 * `lease_ttl`), the lease kept alive every third of its TTL, a lost lease replaced and the record
 * written again, and the lease revoked on a clean stop (the record goes at once).
 */
import { type Etcd3, EtcdLeaseInvalidError, type Lease } from 'etcd3';
import { toEtcdError, withTimeout } from './etcd-client.js';
import type { NodeRecord } from './record.js';

export interface RecordKeeperOptions {
  client: Etcd3;
  /** `<prefix>/nodes/<node_id>`. */
  key: string;
  leaseTtlMs: number;
  callMs: number;
  endpoints: readonly string[];
  /** False while etcd is out of reach or the node is stopping: nothing is attempted. */
  canWrite(): boolean;
  /** The record as it stands, read at each write. */
  record(): NodeRecord;
  /** An etcd call failed for want of etcd. */
  trouble(error: unknown): void;
}

export class RecordKeeper {
  private lease: Lease | undefined;
  private writing: Promise<void> | undefined;
  private writeAgain = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: RecordKeeperOptions) {
    // The Go client's pace: a keepalive every third of the TTL survives two lost ones.
    this.timer = setInterval(() => void this.keepalive(), Math.max(500, options.leaseTtlMs / 3));
    this.timer.unref();
  }

  /** Puts the record (one write at a time; a change during a write writes again after it). */
  write(): Promise<void> {
    if (!this.options.canWrite()) return Promise.resolve();
    if (this.writing !== undefined) {
      this.writeAgain = true;
      return this.writing;
    }
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Revokes the lease when etcd is reachable (the record goes now), else lets it expire. */
  async leave(reachable: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    if (reachable) await withTimeout(lease.revoke(), this.options.callMs, 'lease revoke').catch(() => lease.release());
    else lease.release();
  }

  private async writeLoop(): Promise<void> {
    let leaseRetries = 1;
    do {
      this.writeAgain = false;
      try {
        const lease = await this.ensureLease();
        await lease.put(this.options.key).value(JSON.stringify(this.options.record())).exec();
      } catch (error) {
        // A lease that expired while etcd was away (or was revoked) is replaced once.
        if (error instanceof EtcdLeaseInvalidError && leaseRetries-- > 0) {
          this.lease = undefined;
          this.writeAgain = true;
        } else {
          this.options.trouble(error);
          return;
        }
      }
    } while (this.writeAgain && this.options.canWrite());
  }

  private async ensureLease(): Promise<Lease> {
    if (this.lease !== undefined && !this.lease.revoked()) return this.lease;
    const ttlSeconds = Math.max(1, Math.round(this.options.leaseTtlMs / 1000));
    const lease = this.options.client.lease(ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', () => {
      if (this.lease === lease) this.lease = undefined;
    });
    await lease.grant();
    this.lease = lease;
    return lease;
  }

  /** Keeps the lease alive; a lost lease means a new one and the record again. */
  private async keepalive(): Promise<void> {
    const lease = this.lease;
    if (!this.options.canWrite() || lease === undefined || this.writing !== undefined) return;
    const callMs = this.options.callMs;
    try {
      await withTimeout(lease.keepaliveOnce({ deadline: Date.now() + callMs }), callMs, 'lease keepalive');
    } catch (error) {
      if (error instanceof EtcdLeaseInvalidError) {
        if (this.lease === lease) this.lease = undefined;
        await this.write();
      } else this.options.trouble(toEtcdError(error, this.options.endpoints));
    }
  }
}
