/**
 * A rate limit whose budget every node shares (`rate_limit.scope: cluster`): a `LeasedRateLimiter`
 * (leases spent locally, credit, local fallback: see there) whose source is one token bucket per
 * route and client key in Redis, changed only by an atomic Lua script so that concurrent nodes never
 * both spend the same token. With rate 10/s and three nodes the batch is one token: within a few
 * requests of the configured rate. Leases from before a Redis outage are dropped, not trusted.
 */
import { LeasedRateLimiter } from '../../resilience/leased-rate-limit.js';
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

export { batchSize, CREDIT } from '../../resilience/leased-rate-limit.js';

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

/** A route's limit with its budget in Redis: a leased limiter whose source is the Lua script. */
export class ClusterRateLimiter extends LeasedRateLimiter {
  constructor(link: RedisLink, options: ClusterRateLimitOptions, stats: RateLimitStats) {
    const command = link.client as unknown as LeaseCommand;
    const burst = Math.max(1, options.burst);
    const ratePerMs = options.rate / options.per;
    // A bucket left alone refills completely within burst / rate; after that its key is not needed.
    const ttlMs = Math.ceil(burst / ratePerMs) + 1000;
    const failed = (error: unknown) => link.failed('rate_limit', error);
    super(options, {
      get up() {
        return link.up;
      },
      get epoch() {
        return link.epoch;
      },
      lease: (key, want) => command.gatewiseLease(options.keyPrefix + key, ratePerMs, burst, want, ttlMs),
      giveBack: (key, tokens) => {
        command.gatewiseLease(options.keyPrefix + key, ratePerMs, burst, -tokens, ttlMs).catch(failed);
      },
      failed,
      countFallback: () => stats.fallback++,
      countLease: () => stats.leases++,
    });
  }
}
