import type { Failure } from '../diagnose/index.js';
import type { Exchange } from './exchange.js';

/**
 * Where an exchange reports what happened. The gateway wires logs (and later metrics, health and
 * alerts) here; nothing observes by reaching into the request path.
 */
export interface ExchangeObserver {
  /** One upstream failure: called once per failed attempt, before any retry. */
  upstreamFailed(ex: Exchange, failure: Failure): void;
  /** The exchange is over (response complete, error answered, aborted or tunnelled). */
  exchangeDone(ex: Exchange): void;
}
