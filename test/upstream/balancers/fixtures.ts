import type { Balancer, Pickable, PickContext } from '../../../src/upstream/balancers/index.js';

/** Servers a..z (keys http://10.0.0.N:8080) with the given weights, all available and idle. */
export function makeServers(weights: readonly number[]): Pickable[] {
  return weights.map((weight, index) => ({
    index,
    key: `http://10.0.0.${index + 1}:8080`,
    weight,
    inflight: 0,
    available: true,
  }));
}

export const NO_CONTEXT: PickContext = { clientAddress: '', hashKey: '', tried: null };

/** Letter of a server by index, to write expected sequences as 'aabacaa'. */
export function letter(server: Pickable | undefined): string {
  return server === undefined ? '-' : String.fromCharCode(97 + server.index);
}

/** The letters of `count` consecutive picks. */
export function sequence(balancer: Balancer, servers: readonly Pickable[], count: number, ctx = NO_CONTEXT): string {
  let letters = '';
  for (let i = 0; i < count; i++) letters += letter(balancer.pick(servers, ctx));
  return letters;
}

/** How many of `count` picks went to each server index. */
export function tally(balancer: Balancer, servers: readonly Pickable[], count: number, ctx = NO_CONTEXT): number[] {
  const counts = new Array<number>(servers.length).fill(0);
  for (let i = 0; i < count; i++) {
    const picked = balancer.pick(servers, ctx);
    if (picked !== undefined) counts[picked.index]! += 1;
  }
  return counts;
}
