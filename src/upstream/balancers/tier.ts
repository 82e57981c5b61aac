import type { Pickable } from './types.js';

/** What a policy derives once from one tier array: membership by server index and cumulative weights. */
export class TierIndex {
  servers: readonly Pickable[] | null = null;
  length = 0;
  /** 1 at each server index the tier holds. */
  member: Uint8Array = new Uint8Array(0);
  /** cumulative[p] = sum of weights of servers[0..p]; a weighted draw is one binary search over it. */
  cumulative: Float64Array = new Float64Array(0);
  totalWeight = 0;

  matches(servers: readonly Pickable[]): boolean {
    return servers === this.servers && servers.length === this.length;
  }

  rebuild(servers: readonly Pickable[]): void {
    let capacity = 0;
    for (const server of servers) if (server.index >= capacity) capacity = server.index + 1;
    if (this.member.length < capacity) this.member = new Uint8Array(capacity);
    else this.member.fill(0);
    if (this.cumulative.length < servers.length) this.cumulative = new Float64Array(servers.length);
    let total = 0;
    for (let p = 0; p < servers.length; p++) {
      const server = servers[p]!;
      this.member[server.index] = 1;
      total += server.weight;
      this.cumulative[p] = total;
    }
    this.servers = servers;
    this.length = servers.length;
    this.totalWeight = total;
  }

  /** Position of the first server whose cumulative weight exceeds `draw` (0 <= draw < totalWeight). */
  positionOf(draw: number): number {
    const cumulative = this.cumulative;
    let low = 0;
    let high = this.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! > draw) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * The tier indexes of the last two tier arrays seen. A pool hands a balancer its primaries and, when none of
 * them qualifies, its backups; two slots let it alternate between them without rebuilding on every pick.
 */
export class TierCache {
  private recent = new TierIndex();
  private older = new TierIndex();

  get(servers: readonly Pickable[]): TierIndex {
    const recent = this.recent;
    if (recent.matches(servers)) return recent;
    const older = this.older;
    this.older = recent;
    this.recent = older;
    if (!older.matches(servers)) older.rebuild(servers);
    return older;
  }
}
