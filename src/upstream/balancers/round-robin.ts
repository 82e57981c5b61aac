import { growFloat64, isCandidate, serverCapacity } from './candidates.js';
import type { Balancer, Pickable, PickContext } from './types.js';

/**
 * Smooth weighted round robin as nginx does it (ngx_http_upstream_get_peer): every candidate's current
 * weight grows by its weight, the largest wins and gives back the total. Weights 5,1,1 give a a b a c a a:
 * the heavy server's turns are spread out instead of served in a burst. A server skipped because it is
 * unavailable or already tried neither gains nor loses, so the others keep their rhythm.
 */
export class SmoothWeightedRoundRobin implements Balancer {
  /** Current weight per server index. */
  private current: Float64Array;

  constructor(servers: readonly Pickable[]) {
    this.current = new Float64Array(serverCapacity(servers));
  }

  pick(servers: readonly Pickable[], ctx: PickContext): Pickable | undefined {
    const tried = ctx.tried;
    let current = this.current;
    let best: Pickable | undefined;
    let bestWeight = 0;
    let total = 0;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[i]!;
      if (!isCandidate(server, tried)) continue;
      if (server.index >= current.length) current = this.current = growFloat64(current, server.index);
      const weight = (current[server.index]! += server.weight);
      total += server.weight;
      // Strictly greater: on a tie the earlier server wins, as in nginx, which makes the sequence exact.
      if (best === undefined || weight > bestWeight) {
        best = server;
        bestWeight = weight;
      }
    }
    if (best !== undefined) current[best.index]! -= total;
    return best;
  }
}
