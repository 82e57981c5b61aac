/** What a balancer sees of a server. The upstream pool owns these objects and updates the fields. */
export interface Pickable {
  /** 0..n-1, stable for the life of the upstream; balancers keep per-server state in arrays indexed by it. */
  readonly index: number;
  /** Stable identity (the server URL), used to place the server's points on hashing rings. */
  readonly key: string;
  /** Integer >= 1. */
  readonly weight: number;
  /** Requests in progress on this server (read by least_conn and random_two). */
  inflight: number;
  /** False when unhealthy, ejected, draining or breaker open (maintained by the pool). */
  available: boolean;
}

export interface PickContext {
  /** Hashed by ip_hash. */
  clientAddress: string;
  /** Header value hashed by header_hash; '' when absent, which falls back to round robin. */
  hashKey: string;
  /** Servers already tried by this request: never picked again by this call. */
  tried: readonly Pickable[] | null;
}

export interface Balancer {
  /**
   * Pick among `servers` (one tier: the primaries, or the backups) those with available===true and not in
   * ctx.tried. Returns undefined when none qualifies.
   *
   * Tier arrays are read, never kept beyond their identity: a policy may cache what it derives from one
   * (weights, membership) until it is handed a different array, so a caller that changes a tier builds a new
   * array instead of editing the old one in place.
   */
  pick(servers: readonly Pickable[], ctx: PickContext): Pickable | undefined;
}

export interface BalancerOptions {
  /** Seed of the policies that draw random numbers (random_two), so that a run can be reproduced. */
  seed?: number;
}

/** Builds a balancer once per upstream (at config load or reload), from all of its servers. */
export type BalancerFactory = (servers: readonly Pickable[], options?: BalancerOptions) => Balancer;
