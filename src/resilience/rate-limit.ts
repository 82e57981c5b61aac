/** Rate limit settings; `per` in ms. */
export interface RateLimitOptions {
  /** Requests allowed per `per` ms, on average. */
  readonly rate: number;
  readonly per: number;
  /** Requests allowed at once after a quiet spell (the bucket's size). */
  readonly burst: number;
  /** Keys remembered at most; when full, the oldest go. Default 100,000. */
  readonly max_keys?: number;
}

/**
 * What the request path asks of a route's rate limiter: a synchronous decision per request, the wait
 * for a 429's Retry-After, and a periodic prune from the gateway's sweep. The local token bucket below
 * is one; a limiter whose budget is shared by several nodes is another (it decides locally too).
 */
export interface RouteRateLimiter {
  /** Spend one request of the key's budget; false = over the limit (answer 429). Never waits. */
  take(key: string, now: number): boolean;
  /** Milliseconds until the key may be admitted again (0 = now). */
  retryAfterMs(key: string, now: number): number;
  /** Forget state that no longer matters by `now`; returns how many keys went. */
  prune(now: number): number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

/**
 * A token bucket per key (the client address), like nginx's limit_req with burst and nodelay: each key
 * may spend `burst` requests at once, and its bucket refills at rate/per. Time is whatever the caller
 * passes in; refill is computed on access, so nothing runs per key in the background.
 *
 * Memory is bounded two ways. A full bucket is the same as no bucket, so prune() (from the gateway's
 * periodic sweep) drops every bucket that has refilled, which loses nothing. And the map never holds
 * more than max_keys: a new key arriving at the cap evicts the oldest 1 % by insertion order. A key that
 * is refused is moved to the back of that order, so the clients being limited are the last forgotten
 * (an evicted key starts over with a full burst).
 */
export class RateLimiter implements RouteRateLimiter {
  readonly burst: number;
  readonly maxKeys: number;
  /** Tokens regained per ms. */
  private readonly refillPerMs: number;
  private readonly evictBatch: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    this.burst = Math.max(1, options.burst);
    this.refillPerMs = options.per > 0 ? options.rate / options.per : Number.POSITIVE_INFINITY;
    this.maxKeys = Math.max(1, Math.floor(options.max_keys ?? DEFAULT_MAX_KEYS));
    this.evictBatch = Math.max(1, Math.ceil(this.maxKeys / 100));
  }

  /** Keys remembered now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Spend one token of the key's bucket; false = over the limit (answer 429). */
  take(key: string, now: number): boolean {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evictOldest();
      this.buckets.set(key, { tokens: this.burst - 1, updatedMs: now });
      return true;
    }
    bucket.tokens = this.tokensAt(bucket, now);
    if (bucket.updatedMs < now) bucket.updatedMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    return false;
  }

  /** Milliseconds until the key may take a token again (0 = now), for a 429's Retry-After (RFC 6585 §4). */
  retryAfterMs(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return 0;
    const tokens = this.tokensAt(bucket, now);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.refillPerMs);
  }

  /** Forget every bucket that has refilled to its burst by `now`; returns how many went. */
  prune(now: number): number {
    let removed = 0;
    for (const [key, bucket] of this.buckets) {
      if (this.tokensAt(bucket, now) < this.burst) continue;
      this.buckets.delete(key);
      removed++;
    }
    return removed;
  }

  private tokensAt(bucket: Bucket, now: number): number {
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsedMs = now - bucket.updatedMs;
    if (elapsedMs <= 0) return bucket.tokens;
    return Math.min(this.burst, bucket.tokens + elapsedMs * this.refillPerMs);
  }

  private evictOldest(): void {
    let left = this.evictBatch;
    for (const key of this.buckets.keys()) {
      if (left-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
