/**
 * A rate limit whose budget every node shares (`rate_limit.scope: cluster`), decided on the request
 * path without waiting for Redis.
 *
 * The budget is one token bucket per route and client key in Redis, changed only by an atomic Lua
 * script (so concurrent nodes never both spend the same token). A node does not ask Redis per request:
 * it holds a small lease of tokens per key and spends them locally; when the lease runs low it asks
 * for more in the background. A key this node has no token for is admitted on credit (at most
 * CREDIT requests per key and node), and the next lease pays that debt back first, so the cluster's
 * total stays exact over time:
 *
 *   admitted ≤ burst + rate × elapsed + nodes × CREDIT
 *
 * and under it by at most the tokens leased but not yet spent (≤ 1.5 × batch per key and node). With
 * rate 10/s and three nodes the batch is one token: within a few requests of the configured rate.
 *
 * While Redis is unreachable every decision is the configured limit enforced by this node alone (the
 * local token bucket), and counted; leases from before the outage are dropped, not trusted.
 */
import { RateLimiter, type RouteRateLimiter } from '../../resilience/index.js';
import type { RedisLink } from './link.js';

/**
 * KEYS[1] = the bucket; ARGV = tokens per ms, burst, delta, TTL ms. A positive delta takes up to that
 * many tokens, a negative one gives unspent tokens back. Time is Redis's own clock (TIME), so that
 * nodes with skewed clocks refill one bucket consistently. Returns { granted, ms until a token }.
 */
const LEASE_SCRIPT = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
end
local granted = 0
if delta >= 0 then
  granted = math.max(0, math.min(delta, math.floor(tokens)))
  tokens = tokens - granted
else
  tokens = math.min(burst, tokens - delta)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) / rate)
end
return { granted, wait }
`;

/** The script as a command of the connection (EVALSHA, with EVAL when Redis does not know it yet). */
interface LeaseCommand {
  gatewiseLease(key: string, ratePerMs: number, burst: number, delta: number, ttlMs: number): Promise<[number, number]>;
}

export function defineLeaseCommand(link: RedisLink): void {
  link.client.defineCommand('gatewiseLease', { numberOfKeys: 1, lua: LEASE_SCRIPT });
}

/** Requests per key a node admits before it holds a token for them (paid back from its next lease). */
export const CREDIT = 1;

/** What one node holds of one key's shared budget. */
interface Lease {
  /** Tokens held here; below zero = requests admitted on credit, owed to the shared bucket. */
  balance: number;
  fetching: boolean;
  /** The shared bucket was empty: no credit before this wall-clock time (ms); 0 = not empty. */
  emptyUntilMs: number;
  /** The link epoch the balance belongs to: a lease does not outlive an outage. */
  epoch: number;
  lastUsedMs: number;
}

export interface ClusterRateLimitOptions {
  /** The Redis key of this route's buckets, up to the client key (`gatewise:rl:0:/api:`). */
  keyPrefix: string;
  rate: number;
  /** ms */
  per: number;
  burst: number;
  /** Keys remembered at most; when full, the oldest 1 % go. */
  maxKeys?: number;
}

/** Counters shared by every cluster limiter of a node (limiters are rebuilt on reload; counts are not). */
export interface RateLimitStats {
  /** Requests decided by this node's local limit because Redis was unreachable. */
  fallback: number;
  /** Leases asked of Redis. */
  leases: number;
}

/** A lease covers about 20 ms of the rate, capped at an eighth of the bucket (at least one token). */
export function batchSize(ratePerMs: number, burst: number): number {
  return Math.max(1, Math.min(Math.floor(burst / 8), Math.ceil(ratePerMs * 20)));
}

/** Leases idle this long are returned to the shared bucket and forgotten by prune(). */
const IDLE_MS = 5000;

export class ClusterRateLimiter implements RouteRateLimiter {
  readonly burst: number;
  readonly batch: number;
  private readonly ratePerMs: number;
  private readonly ttlMs: number;
  private readonly maxKeys: number;
  private readonly leases = new Map<string, Lease>();
  /** The same limit, enforced by this node alone while Redis is unreachable. */
  private readonly local: RateLimiter;
  private readonly command: LeaseCommand;

  constructor(
    private readonly link: RedisLink,
    private readonly options: ClusterRateLimitOptions,
    private readonly stats: RateLimitStats,
  ) {
    this.burst = Math.max(1, options.burst);
    this.ratePerMs = options.rate / options.per;
    this.batch = batchSize(this.ratePerMs, this.burst);
    // A bucket left alone refills completely within burst / rate; after that its key is not needed.
    this.ttlMs = Math.ceil(this.burst / this.ratePerMs) + 1000;
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 100_000));
    this.local = new RateLimiter({ rate: options.rate, per: options.per, burst: this.burst, max_keys: this.maxKeys });
    this.command = link.client as unknown as LeaseCommand;
  }

  /** Keys held now (leases and local buckets). */
  get size(): number {
    return this.leases.size + this.local.size;
  }

  take(key: string, now: number): boolean {
    if (!this.link.up) {
      this.stats.fallback++;
      return this.local.take(key, now);
    }
    let lease = this.leases.get(key);
    if (lease === undefined || lease.epoch !== this.link.epoch) {
      if (lease === undefined && this.leases.size >= this.maxKeys) this.evictOldest();
      lease = { balance: 0, fetching: false, emptyUntilMs: 0, epoch: this.link.epoch, lastUsedMs: now };
      this.leases.set(key, lease);
    }
    lease.lastUsedMs = now;
    if (lease.balance >= 1) {
      lease.balance--;
      // Ask for more while some are left, so that steady traffic never waits on a lease.
      if (lease.balance < this.batch / 2) this.fetch(key, lease);
      return true;
    }
    // The wait Redis named is on the wall clock: the request path's coarse clock can be 100 ms behind,
    // a whole token's time at low rates. Read only when the bucket was found empty.
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
    if (!this.link.up) return this.local.retryAfterMs(key, now);
    const lease = this.leases.get(key);
    const waitMs = lease === undefined ? 0 : lease.emptyUntilMs - Date.now();
    return waitMs > 0 ? waitMs : Math.ceil(1 / this.ratePerMs);
  }

  /** Returns idle leases' unspent tokens to the shared bucket and forgets them; prunes the local buckets. */
  prune(now: number): number {
    let removed = this.local.prune(now);
    for (const [key, lease] of this.leases) {
      if (lease.fetching || now - lease.lastUsedMs < IDLE_MS) continue;
      this.leases.delete(key);
      removed++;
      if (lease.balance >= 1 && lease.epoch === this.link.epoch && this.link.up) this.giveBack(key, lease.balance);
    }
    return removed;
  }

  private fetch(key: string, lease: Lease): void {
    if (lease.fetching) return;
    lease.fetching = true;
    // The debt first, then a batch to spend.
    const want = this.batch + Math.max(0, -lease.balance);
    this.stats.leases++;
    this.command.gatewiseLease(this.options.keyPrefix + key, this.ratePerMs, this.burst, want, this.ttlMs).then(
      ([granted, waitMs]) => {
        lease.fetching = false;
        if (lease.epoch !== this.link.epoch) return;
        lease.balance += granted;
        lease.emptyUntilMs = granted < want ? Date.now() + waitMs : 0;
      },
      (error: unknown) => {
        lease.fetching = false;
        this.link.failed('rate_limit', error);
      },
    );
  }

  private giveBack(key: string, tokens: number): void {
    this.command
      .gatewiseLease(this.options.keyPrefix + key, this.ratePerMs, this.burst, -Math.floor(tokens), this.ttlMs)
      .catch((error: unknown) => this.link.failed('rate_limit', error));
  }

  private evictOldest(): void {
    let left = Math.max(1, Math.ceil(this.maxKeys / 100));
    for (const key of this.leases.keys()) {
      if (left-- <= 0) break;
      this.leases.delete(key);
    }
  }
}
