import { BalancerError } from './errors.js';
import type { Pickable } from './types.js';

/** Whether this request already tried `server`; `tried` holds a few entries at most (one per attempt). */
export function isTried(tried: readonly Pickable[] | null, server: Pickable): boolean {
  if (tried === null) return false;
  for (let i = 0; i < tried.length; i++) {
    if (tried[i]!.index === server.index) return true;
  }
  return false;
}

/** A server a pick may return: available and not yet tried by this request. */
export function isCandidate(server: Pickable, tried: readonly Pickable[] | null): boolean {
  return server.available && !isTried(tried, server);
}

/**
 * Checks what the policies rely on and returns the length of the per-server state arrays (highest index + 1).
 * Runs once at creation, so that a pick never has to.
 */
export function serverCapacity(servers: readonly Pickable[]): number {
  let capacity = 0;
  const seen = new Set<number>();
  for (const server of servers) {
    if (!Number.isSafeInteger(server.index) || server.index < 0) {
      throw new BalancerError(
        'GW_BALANCER_SERVER',
        `server ${server.key}: index ${server.index} is not an integer >= 0`,
      );
    }
    if (seen.has(server.index)) {
      throw new BalancerError('GW_BALANCER_SERVER', `server ${server.key}: index ${server.index} is used twice`);
    }
    if (!Number.isSafeInteger(server.weight) || server.weight < 1) {
      throw new BalancerError(
        'GW_BALANCER_SERVER',
        `server ${server.key}: weight ${server.weight} is not an integer >= 1`,
      );
    }
    seen.add(server.index);
    if (server.index >= capacity) capacity = server.index + 1;
  }
  return capacity;
}

/** A copy of `values` long enough for `index`; only reached when a pick sees a server created after the balancer. */
export function growFloat64(values: Float64Array, index: number): Float64Array {
  const grown = new Float64Array(Math.max(index + 1, values.length * 2));
  grown.set(values);
  return grown;
}
