import { isCandidate, serverCapacity } from './candidates.js';
import { freshSeed, XorShift32 } from './prng.js';
import { TierCache, type TierIndex } from './tier.js';
import type { Balancer, BalancerOptions, Pickable, PickContext } from './types.js';

/** Weighted draws tried before falling back to a scan; each is one binary search. */
const DRAW_ATTEMPTS = 4;

/**
 * Power of two random choices (Mitzenmacher): draw two different candidates, each with probability
 * proportional to its weight, and keep the one with the lower inflight/weight (the first drawn on a tie,
 * which keeps an idle upstream's shares proportional to the weights). Nearly as even as least_conn, without
 * every gateway worker herding onto the same least loaded server.
 *
 * A draw is a binary search over the tier's cumulative weights, rejected when it lands on a server that is
 * no candidate. After a few rejections (most of the tier is down or tried) a linear weighted draw over the
 * candidates takes over. Both sample the same distribution, so the mix does too.
 */
export class RandomTwoChoices implements Balancer {
  private readonly random: XorShift32;
  private readonly tiers = new TierCache();

  constructor(servers: readonly Pickable[], options?: BalancerOptions) {
    serverCapacity(servers);
    this.random = new XorShift32(options?.seed ?? freshSeed());
  }

  pick(servers: readonly Pickable[], ctx: PickContext): Pickable | undefined {
    if (servers.length === 0) return undefined;
    const tier = this.tiers.get(servers);
    const tried = ctx.tried;
    const first = this.draw(tier, servers, tried, undefined);
    if (first === undefined) return undefined;
    const second = this.draw(tier, servers, tried, first);
    if (second === undefined) return first;
    return second.inflight * first.weight < first.inflight * second.weight ? second : first;
  }

  /** One candidate other than `exclude`, drawn with probability proportional to its weight. */
  private draw(
    tier: TierIndex,
    servers: readonly Pickable[],
    tried: readonly Pickable[] | null,
    exclude: Pickable | undefined,
  ): Pickable | undefined {
    for (let attempt = 0; attempt < DRAW_ATTEMPTS; attempt++) {
      const server = servers[tier.positionOf(this.random.below(tier.totalWeight))]!;
      if (server !== exclude && isCandidate(server, tried)) return server;
    }
    let total = 0;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[i]!;
      if (server !== exclude && isCandidate(server, tried)) total += server.weight;
    }
    if (total === 0) return undefined;
    let draw = this.random.below(total);
    for (let i = 0; i < servers.length; i++) {
      const server = servers[i]!;
      if (server === exclude || !isCandidate(server, tried)) continue;
      if (draw < server.weight) return server;
      draw -= server.weight;
    }
    return undefined;
  }
}
