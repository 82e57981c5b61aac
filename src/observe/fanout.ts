import type { Failure } from '../diagnose/index.js';
import type { Exchange, ExchangeObserver } from '../proxy/index.js';

/** Hands every exchange outcome to several observers (logs, metrics, statistics, recent failures). */
export class FanOut implements ExchangeObserver {
  constructor(private readonly observers: readonly ExchangeObserver[]) {}

  upstreamFailed(ex: Exchange, failure: Failure): void {
    for (const observer of this.observers) observer.upstreamFailed(ex, failure);
  }

  exchangeDone(ex: Exchange): void {
    for (const observer of this.observers) observer.exchangeDone(ex);
  }
}
