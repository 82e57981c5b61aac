/**
 * A rate limit whose budget is held elsewhere (Redis for `scope: cluster`, the node's primary process
 * for a worker), decided on the request path without waiting for it.
 *
 * The process holds a small lease of tokens per client key and spends them locally; when the lease
 * runs low it asks the source for more in the background. A key with no token yet is admitted on
 * credit (at most CREDIT requests per key and process) and the next lease pays that debt back first,
 * so the total stays exact over time:
 *
 *   admitted ≤ burst + rate × elapsed + processes × CREDIT
 *
 * and under it by at most the tokens leased but not yet spent (≤ 1.5 × batch per key and process).
 *
 * While the source is down every decision is the configured limit enforced by this process alone
 * (a local token bucket), and counted; leases from before the outage are dropped, not trusted.
 */
import { RateLimiter, type RouteRateLimiter } from './rate-limit.js';

/** Where the tokens come from. */
export interface LeaseSource {
  /** Reachable now; false = decide with the local bucket. */
  readonly up: boolean;
  /** Changes when the source comes back after an outage (older leases are void). */
  readonly epoch: number;
  /**
   * Takes up to `want` tokens of `key`'s bucket; resolves with those granted and, when fewer, the
   * ms until the bucket has a token again.
   */
  lease(key: string, want: number): Promise<[granted: number, waitMs: number]>;
  /** Gives unspent tokens back (optional: a source that cannot just lets them refill). */
  giveBack?(key: string, tokens: number): void;
  /** A lease request failed (the source decides whether it is down now). */
  failed?(error: unknown): void;
  /** Counts a decision taken locally because the source was down, and a lease asked. */
  countFallback?(): void;
  countLease?(): void;
}

export interface LeasedLimit {
  rate: number;
  /** ms */
  per: number;
  burst: number;
  /** Keys remembered at most; when full, the oldest 1 % go. */
  maxKeys?: number | undefined;
}

/** Requests per key a process admits before it holds a token for them (paid back from its next lease). */
export const CREDIT = 1;

/** A lease covers about 20 ms of the rate, capped at an eighth of the bucket (at least one token). */
export function batchSize(ratePerMs: number, burst: number): number {
  return Math.max(1, Math.min(Math.floor(burst / 8), Math.ceil(ratePerMs * 20)));
}

/** Leases idle this long are returned to the source and forgotten by prune(). */
const IDLE_MS = 5000;

/** What one process holds of one key's budget. */
interface Lease {
  /** Tokens held here; below zero = requests admitted on credit, owed to the source. */
  balance: number;
  fetching: boolean;
  /** The source's bucket was empty: no credit before this wall-clock time (ms); 0 = not empty. */
  emptyUntilMs: number;
  /** The source epoch the balance belongs to: a lease does not outlive an outage. */
  epoch: number;
  lastUsedMs: number;
}

export class LeasedRateLimiter implements RouteRateLimiter {
  readonly burst: number;
  readonly batch: number;
  readonly ratePerMs: number;
  private readonly maxKeys: number;
  private readonly leases = new Map<string, Lease>();
  /** The same limit, enforced by this process alone while the source is down. */
  private readonly local: RateLimiter;

  constructor(
    limit: LeasedLimit,
    private readonly source: LeaseSource,
  ) {
    this.burst = Math.max(1, limit.burst);
    this.ratePerMs = limit.rate / limit.per;
    this.batch = batchSize(this.ratePerMs, this.burst);
    this.maxKeys = Math.max(1, Math.floor(limit.maxKeys ?? 100_000));
    this.local = new RateLimiter({ rate: limit.rate, per: limit.per, burst: this.burst, max_keys: this.maxKeys });
  }

  /** Keys held now (leases and local buckets). */
  get size(): number {
    return this.leases.size + this.local.size;
  }

  take(key: string, now: number): boolean {
    const source = this.source;
    if (!source.up) {
      source.countFallback?.();
      return this.local.take(key, now);
    }
    let lease = this.leases.get(key);
    if (lease === undefined || lease.epoch !== source.epoch) {
      if (lease === undefined && this.leases.size >= this.maxKeys) this.evictOldest();
      lease = { balance: 0, fetching: false, emptyUntilMs: 0, epoch: source.epoch, lastUsedMs: now };
      this.leases.set(key, lease);
    }
    lease.lastUsedMs = now;
    if (lease.balance >= 1) {
      lease.balance--;
      // Ask for more while some are left, so that steady traffic never waits on a lease.
      if (lease.balance < this.batch / 2) this.fetch(key, lease);
      return true;
    }
    // The wait the source named is on the wall clock: the request path's coarse clock can be 100 ms
    // behind, a whole token's time at low rates. Read only when the bucket was found empty.
    const empty = lease.emptyUntilMs !== 0 && Date.now() < lease.emptyUntilMs;
    if (empty || lease.balance <= -CREDIT) {
      if (!empty) this.fetch(key, lease);
      return false;
    }
    lease.balance--;
    this.fetch(key, lease);
    return true;
  }

  retryAfterMs(key: string, now: number): number {
    if (!this.source.up) return this.local.retryAfterMs(key, now);
    const lease = this.leases.get(key);
    const waitMs = lease === undefined ? 0 : lease.emptyUntilMs - Date.now();
    return waitMs > 0 ? waitMs : Math.ceil(1 / this.ratePerMs);
  }

  /** Returns idle leases' unspent tokens to the source and forgets them; prunes the local buckets. */
  prune(now: number): number {
    const source = this.source;
    let removed = this.local.prune(now);
    for (const [key, lease] of this.leases) {
      if (lease.fetching || now - lease.lastUsedMs < IDLE_MS) continue;
      this.leases.delete(key);
      removed++;
      if (lease.balance >= 1 && lease.epoch === source.epoch && source.up)
        source.giveBack?.(key, Math.floor(lease.balance));
    }
    return removed;
  }

  private fetch(key: string, lease: Lease): void {
    if (lease.fetching) return;
    lease.fetching = true;
    // The debt first, then a batch to spend.
    const want = this.batch + Math.max(0, -lease.balance);
    this.source.countLease?.();
    this.source.lease(key, want).then(
      ([granted, waitMs]) => {
        lease.fetching = false;
        if (lease.epoch !== this.source.epoch) return;
        lease.balance += granted;
        lease.emptyUntilMs = granted < want ? Date.now() + waitMs : 0;
      },
      (error: unknown) => {
        lease.fetching = false;
        this.source.failed?.(error);
      },
    );
  }

  private evictOldest(): void {
    let left = Math.max(1, Math.ceil(this.maxKeys / 100));
    for (const key of this.leases.keys()) {
      if (left-- <= 0) break;
      this.leases.delete(key);
    }
  }
}
