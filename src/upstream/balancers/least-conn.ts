import { growFloat64, isCandidate, serverCapacity } from './candidates.js';
import type { Balancer, Pickable, PickContext } from './types.js';

/**
 * Least connections as nginx does it (ngx_http_upstream_get_least_conn_peer): the lowest inflight/weight
 * wins; when several share the lowest, smooth weighted round robin chooses among them, so an idle upstream
 * rotates through its servers instead of always handing the first one the next request.
 * Ratios are compared by cross-multiplication (a.inflight * b.weight), which needs no division.
 */
export class LeastConnections implements Balancer {
  /** Smooth round robin's current weight per server index, moved only by tie-breaks. */
  private current: Float64Array;

  constructor(servers: readonly Pickable[]) {
    this.current = new Float64Array(serverCapacity(servers));
  }

  pick(servers: readonly Pickable[], ctx: PickContext): Pickable | undefined {
    const tried = ctx.tried;
    let best: Pickable | undefined;
    let bestPosition = 0;
    let tied = false;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[i]!;
      if (!isCandidate(server, tried)) continue;
      if (best === undefined) {
        best = server;
        bestPosition = i;
        continue;
      }
      const mine = server.inflight * best.weight;
      const theirs = best.inflight * server.weight;
      if (mine < theirs) {
        best = server;
        bestPosition = i;
        tied = false;
      } else if (mine === theirs) {
        tied = true;
      }
    }
    if (best === undefined || !tied) return best;
    return this.breakTie(servers, tried, best, bestPosition);
  }

  /** Smooth weighted round robin among the candidates whose ratio equals `best`'s (none precedes it). */
  private breakTie(
    servers: readonly Pickable[],
    tried: readonly Pickable[] | null,
    best: Pickable,
    from: number,
  ): Pickable {
    let current = this.current;
    let chosen = best;
    let chosenWeight = 0;
    let total = 0;
    for (let i = from; i < servers.length; i++) {
      const server = servers[i]!;
      if (!isCandidate(server, tried) || server.inflight * best.weight !== best.inflight * server.weight) continue;
      if (server.index >= current.length) current = this.current = growFloat64(current, server.index);
      const weight = (current[server.index]! += server.weight);
      total += server.weight;
      if (i === from || weight > chosenWeight) {
        chosen = server;
        chosenWeight = weight;
      }
    }
    current[chosen.index]! -= total;
    return chosen;
  }
}
