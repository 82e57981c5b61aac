import { GatewayError } from '../../errors.js';

/**
 * A balancer asked for by an unknown name, or given servers it cannot balance. The config schema rejects
 * both first, so this marks a caller's fault, raised once at creation and never on a pick.
 */
export class BalancerError extends GatewayError {
  constructor(code: 'GW_BALANCER_UNKNOWN' | 'GW_BALANCER_SERVER', message: string) {
    super(code, message);
  }
}
