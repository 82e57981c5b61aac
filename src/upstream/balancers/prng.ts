import { mix32 } from './hash.js';

/**
 * Marsaglia's xorshift32: three shifts per number, no allocation. Good enough to choose two servers;
 * not for anything secret.
 */
export class XorShift32 {
  /**
   * Kept in a typed array: a 32-bit value does not fit V8's small integers, so a plain field would box
   * every new state in a fresh heap number, one allocation per draw.
   */
  private readonly state = new Uint32Array(1);

  constructor(seed: number) {
    // Mixed first so that nearby seeds (1, 2, 3 in tests) start far apart; 0 is xorshift's one fixed point.
    this.state[0] = mix32(seed >>> 0) || 0x9e3779b9;
  }

  /** Next value in 1..2^32-1. */
  next(): number {
    let x = this.state[0]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.state[0] = x >>> 0);
  }

  /** An integer in [0, bound); exact while bound < 2^21, far above any sum of server weights. */
  below(bound: number): number {
    return Math.floor((this.next() * bound) / 4294967296);
  }
}

/** A seed for balancers created without one: different per process, drawn once. */
export function freshSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}
