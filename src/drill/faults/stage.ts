/**
 * The pieces a link is built of. Data flows left to right by plain calls, `write(chunk)` then one
 * `end()`, from the link's source through one stage per toxic to the link's destination, the way
 * Toxiproxy chains its ToxicStubs. A stage that holds data (latency, bandwidth, slicer) counts it
 * in `heldBytes`, so the link can stop reading its source while too much is held.
 */
import type { ToxicStream } from './toxic.js';

/** Where a stage sends what it lets through. */
export interface Sink {
  write(chunk: Buffer): void;
  end(): void;
}

/** What a stage may ask of the connection it works on. */
export interface StageContext {
  readonly stream: ToxicStream;
  /** Held bytes were passed on: the link may read its source again. */
  released(): void;
  /** From now on, closing this connection resets both sockets (RST), as SO_LINGER 0 does for Toxiproxy. */
  resetOnClose(): void;
  /**
   * Routes the client's bytes to `handler` instead of the upstream, until the returned function
   * is called. HTTP faults answer requests themselves and keep them from the upstream.
   */
  tapClient(handler: (chunk: Buffer) => void): () => void;
}

/** Why a stage leaves its link. */
export type DetachReason =
  /** The toxic was removed: pass held data on (Toxiproxy never drops it) and stop. */
  | 'removed'
  /** The toxic was updated: a new stage with the new attributes takes this one's place. */
  | 'replaced';

export abstract class Stage implements Sink {
  next: Sink = NOWHERE;
  /** Bytes received and not yet passed on. */
  heldBytes = 0;

  constructor(protected readonly context: StageContext) {}

  abstract write(chunk: Buffer): void;
  abstract end(): void;

  /** The stage leaves its link; called after the link has wired around it. */
  detach(_reason: DetachReason): void {}

  /** The connection is gone: stop every timer, drop what is held. */
  destroy(): void {}
}

/** A toxic whose toxicity roll said no on this connection: data passes untouched. */
export class PassStage extends Stage {
  write(chunk: Buffer): void {
    this.next.write(chunk);
  }

  end(): void {
    this.next.end();
  }
}

/** A sink that drops everything; what an unwired stage writes to. */
export const NOWHERE: Sink = Object.freeze({ write() {}, end() {} });

/** Milliseconds on a monotonic clock. */
export function nowMs(): number {
  return performance.now();
}
