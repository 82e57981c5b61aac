import type { Clock } from './clock.js';
import type { ExchangeObserver } from './observer.js';
import type { Runtime } from './runtime.js';

/** A client connection of any protocol, as the gateway tracks it for shutdown. */
export interface TrackedConnection {
  /** Stop taking new requests: close when idle, finish the one in flight first. */
  drain(): void;
  /** Close now. */
  destroy(): void;
  /** A request is in progress on this connection. */
  readonly busy: boolean;
}

/** What every listener and connection shares: the current runtime, the clock and the observers. */
export interface ProxyContext {
  /** The current compiled config; swapped atomically on reload. */
  runtime: Runtime;
  readonly clock: Clock;
  readonly observer: ExchangeObserver;
  readonly connections: Set<TrackedConnection>;
  /** Shutting down: responses say `Connection: close` and idle connections close. */
  draining: boolean;
}
