import { GatewayError } from '../errors.js';

/**
 * Settings a resilience module cannot work with. The config schema rejects them first, so this marks a
 * caller's fault, raised once at construction and never on the request path.
 */
export class ResilienceConfigError extends GatewayError {
  constructor(code: 'GW_RETRY_ON_UNKNOWN', message: string) {
    super(code, message);
  }
}
