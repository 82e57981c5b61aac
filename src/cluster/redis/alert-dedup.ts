/**
 * Alert de-duplication across nodes: every node evaluates the same rules, so the same alert fires on
 * each of them; the first node to claim the transition in Redis sends it, the others stay quiet. One
 * firing and one resolved notification per alert reach the receivers, whatever the number of nodes.
 *
 * A claim is `SET <prefix>alert:<fingerprint>:<state> <node> NX PX <ttl>`; winning one state deletes
 * the other state's key, so the next firing after a resolution (and the next resolution) can be
 * claimed again at once. The TTL only cleans up keys whose alert never changed state again.
 *
 * Redis unreachable, or no answer in time: the node sends. A duplicate notification is better than
 * none at all.
 */
import type { RedisLink } from './link.js';

const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`;

interface ClaimCommand {
  gatewiseClaim(key: string, other: string, node: string, ttlMs: number): Promise<number>;
}

export interface AlertClaimStats {
  /** Transitions this node claimed (and sent). */
  won: number;
  /** Transitions another node had claimed already (not sent here). */
  lost: number;
  /** Transitions sent without a claim because Redis was unreachable. */
  unclaimed: number;
}

/** Keys of alerts that stay in one state are dropped after this (a day): longer than any de-dup needs. */
export const CLAIM_TTL_MS = 24 * 60 * 60 * 1000;

export class AlertDedup {
  readonly stats: AlertClaimStats = { won: 0, lost: 0, unclaimed: 0 };
  private readonly command: ClaimCommand;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly ttlMs = CLAIM_TTL_MS,
  ) {
    link.client.defineCommand('gatewiseClaim', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    this.command = link.client as unknown as ClaimCommand;
  }

  /** Whether this node sends the transition; the AlertEngine's `claim` hook. Never rejects. */
  readonly claim = async (fingerprint: string, status: 'firing' | 'resolved'): Promise<boolean> => {
    if (!this.link.up) {
      this.stats.unclaimed++;
      return true;
    }
    const other = status === 'firing' ? 'resolved' : 'firing';
    try {
      const won =
        (await this.command.gatewiseClaim(
          `${this.prefix}alert:${fingerprint}:${status}`,
          `${this.prefix}alert:${fingerprint}:${other}`,
          this.nodeId,
          this.ttlMs,
        )) === 1;
      if (won) this.stats.won++;
      else this.stats.lost++;
      return won;
    } catch (error) {
      this.link.failed('alert_claim', error);
      this.stats.unclaimed++;
      return true;
    }
  };
}
