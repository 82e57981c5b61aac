/**
 * Load-balancing policies, a registry keyed by the name used in config (`balance: least_conn`).
 * A pool creates one balancer per upstream from all its servers, then asks it for a server per attempt,
 * one tier at a time. Picks run on the request path: they allocate nothing and build no closures.
 */

import { HeaderHash, IpHash } from './consistent-hash.js';
import { BalancerError } from './errors.js';
import { LeastConnections } from './least-conn.js';
import { RandomTwoChoices } from './random-two.js';
import { SmoothWeightedRoundRobin } from './round-robin.js';
import type { Balancer, BalancerFactory, BalancerOptions, Pickable } from './types.js';

export { POINTS_PER_WEIGHT } from './consistent-hash.js';
export { BalancerError } from './errors.js';
export type { Balancer, BalancerFactory, BalancerOptions, Pickable, PickContext } from './types.js';

/** Every policy name, in the order the config reference lists them (a tuple, for the config schema's enum). */
export const BALANCER_NAMES = ['round_robin', 'least_conn', 'random_two', 'ip_hash', 'header_hash'] as const;

export type BalancerName = (typeof BALANCER_NAMES)[number];

/** The registry: adding a policy is adding a row (and its name above). */
export const BALANCERS: Readonly<Record<BalancerName, BalancerFactory>> = {
  round_robin: (servers) => new SmoothWeightedRoundRobin(servers),
  least_conn: (servers) => new LeastConnections(servers),
  random_two: (servers, options) => new RandomTwoChoices(servers, options),
  ip_hash: (servers) => new IpHash(servers),
  header_hash: (servers) => new HeaderHash(servers),
};

/** Creates the named policy over `servers`; throws BalancerError (GW_BALANCER_UNKNOWN) for a name not in the table. */
export function createBalancer(name: BalancerName, servers: readonly Pickable[], options?: BalancerOptions): Balancer {
  if (!Object.hasOwn(BALANCERS, name)) {
    throw new BalancerError('GW_BALANCER_UNKNOWN', `unknown balancer "${name}"; known: ${BALANCER_NAMES.join(', ')}`);
  }
  return BALANCERS[name](servers, options);
}
