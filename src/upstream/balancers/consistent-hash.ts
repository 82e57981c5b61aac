import { isCandidate, serverCapacity } from './candidates.js';
import { hashString } from './hash.js';
import { SmoothWeightedRoundRobin } from './round-robin.js';
import { TierCache } from './tier.js';
import type { Balancer, Pickable, PickContext } from './types.js';

/**
 * Ring points per unit of weight. Ketama (memcached) and nginx's `hash ... consistent` use 160; with fewer
 * points the shares of equal servers drift further apart (their spread shrinks as 1/sqrt(points)).
 */
export const POINTS_PER_WEIGHT = 160;

/**
 * A consistent-hashing ring (Karger et al., 1997): each server owns weight × POINTS_PER_WEIGHT points,
 * placed by hashing "key#n" so that a server's points depend on nothing but its own key. Adding a server only
 * adds points, so the only keys that move are those whose next point is now one of its points.
 */
export class HashRing {
  /** Point positions, ascending. */
  readonly positions: Uint32Array;
  /** owners[i] is the server of positions[i]. */
  readonly owners: readonly Pickable[];

  constructor(servers: readonly Pickable[], pointsPerWeight = POINTS_PER_WEIGHT) {
    const points: { position: number; owner: Pickable }[] = [];
    for (const server of servers) {
      const count = server.weight * pointsPerWeight;
      for (let n = 0; n < count; n++) points.push({ position: hashString(`${server.key}#${n}`), owner: server });
    }
    // Equal positions are ordered by key, so that the ring is the same whatever order the servers came in.
    points.sort(
      (a, b) => a.position - b.position || (a.owner.key < b.owner.key ? -1 : a.owner.key > b.owner.key ? 1 : 0),
    );
    this.positions = Uint32Array.from(points, (point) => point.position);
    this.owners = points.map((point) => point.owner);
  }

  get size(): number {
    return this.positions.length;
  }

  /** Index of the first point at or clockwise after `hash`, wrapping past the top to 0. */
  firstAtOrAfter(hash: number): number {
    const positions = this.positions;
    let low = 0;
    let high = positions.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (positions[middle]! < hash) low = middle + 1;
      else high = middle;
    }
    return low === positions.length ? 0 : low;
  }
}

/**
 * Sends every request with the same hash input to the same server while that server qualifies. A pick hashes
 * the input, finds the next point clockwise by binary search and walks on to the first point whose server is
 * in the tier, available and not yet tried, so when a server drops out only its own keys move (each to the
 * server after it on the ring) and they come back when it returns.
 * An empty input, or a tier with no server on the ring, falls back to smooth weighted round robin.
 */
abstract class ConsistentHash implements Balancer {
  private readonly ring: HashRing;
  private readonly fallback: SmoothWeightedRoundRobin;
  private readonly tiers = new TierCache();

  constructor(servers: readonly Pickable[]) {
    serverCapacity(servers);
    this.ring = new HashRing(servers);
    this.fallback = new SmoothWeightedRoundRobin(servers);
  }

  /** The string this policy hashes; '' when the request carries none. */
  protected abstract hashInput(ctx: PickContext): string;

  pick(servers: readonly Pickable[], ctx: PickContext): Pickable | undefined {
    const input = this.hashInput(ctx);
    const ring = this.ring;
    const size = ring.size;
    if (input.length === 0 || size === 0) return this.fallback.pick(servers, ctx);
    const member = this.tiers.get(servers).member;
    const owners = ring.owners;
    const tried = ctx.tried;
    let i = ring.firstAtOrAfter(hashString(input));
    // At most one lap: when no point qualifies, neither does any server on the ring.
    for (let step = 0; step < size; step++) {
      const owner = owners[i]!;
      if (member[owner.index] === 1 && isCandidate(owner, tried)) return owner;
      if (++i === size) i = 0;
    }
    // Servers of the tier that were not on the ring when it was built can still serve.
    return this.fallback.pick(servers, ctx);
  }
}

/** Hashes the client address: one client keeps one server (sessions held in server memory). */
export class IpHash extends ConsistentHash {
  protected override hashInput(ctx: PickContext): string {
    return ctx.clientAddress;
  }
}

/** Hashes a request header's value (a user or tenant id, a cache key); requests without it rotate. */
export class HeaderHash extends ConsistentHash {
  protected override hashInput(ctx: PickContext): string {
    return ctx.hashKey;
  }
}
