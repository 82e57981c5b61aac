/**
 * Toxiproxy's toxics that cut or close connections (slow_close, timeout, reset_peer, limit_data) as
 * stages, each doing what its toxics/*.go does to one direction of one connection.
 */
import { type DetachReason, Stage, type StageContext } from '../stage.js';
import type { Attributes } from '../toxic.js';
import { int } from './delay.js';

/** What a stage keeps for the life of a connection, across updates of its toxic. */
export interface LimitDataState {
  transmittedBytes: number;
}

/** slow_close: data passes; the close waits `delay` ms (toxics/slow_close.go). */
export class SlowCloseStage extends Stage {
  private timer: NodeJS.Timeout | undefined;
  private readonly delayMs: number;

  constructor(context: StageContext, attributes: Readonly<Attributes>) {
    super(context);
    this.delayMs = int(attributes, 'delay');
  }

  write(chunk: Buffer): void {
    this.next.write(chunk);
  }

  end(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.next.end(), Math.max(0, this.delayMs));
  }

  override detach(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.next.end();
  }

  override destroy(): void {
    clearTimeout(this.timer);
  }
}

/**
 * timeout: every byte is dropped (a blackhole); after `timeout` ms without data the connection is
 * closed, 0 = never (toxics/timeout.go re-arms its timer on every chunk). Removing the toxic closes
 * the connection too (its Cleanup): bytes were lost, the stream cannot go on.
 */
export class TimeoutStage extends Stage {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly timeoutMs: number;

  constructor(context: StageContext, attributes: Readonly<Attributes>) {
    super(context);
    this.timeoutMs = int(attributes, 'timeout');
    this.arm();
  }

  private arm(): void {
    if (this.timeoutMs <= 0 || this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close(), this.timeoutMs);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.next.end();
  }

  write(_chunk: Buffer): void {
    this.arm();
  }

  end(): void {
    this.close();
  }

  override detach(reason: DetachReason): void {
    if (reason === 'removed') this.close();
    else clearTimeout(this.timer);
  }

  override destroy(): void {
    clearTimeout(this.timer);
  }
}

/**
 * reset_peer: on the first data (or the end) from the source, wait `timeout` ms, then close the
 * connection with RST on both sides (toxics/reset_peer.go with SO_LINGER 0). Data is dropped.
 */
export class ResetPeerStage extends Stage {
  private timer: NodeJS.Timeout | undefined;
  private triggered = false;
  private fired = false;
  private readonly timeoutMs: number;

  constructor(context: StageContext, attributes: Readonly<Attributes>) {
    super(context);
    this.timeoutMs = int(attributes, 'timeout');
    context.resetOnClose();
  }

  private trigger(): void {
    if (this.triggered) return;
    this.triggered = true;
    if (this.timeoutMs <= 0) this.fire();
    else this.timer = setTimeout(() => this.fire(), this.timeoutMs);
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    clearTimeout(this.timer);
    this.next.end();
  }

  write(_chunk: Buffer): void {
    this.trigger();
  }

  end(): void {
    this.trigger();
  }

  /** Once triggered, the reset happens even if the toxic goes, as it does in Toxiproxy. */
  override detach(): void {
    if (this.triggered) this.fire();
  }

  override destroy(): void {
    clearTimeout(this.timer);
  }
}

/** limit_data: pass `bytes` bytes in all (counted across updates), then close (toxics/limit_data.go). */
export class LimitDataStage extends Stage {
  private closed = false;
  private readonly limitBytes: number;

  constructor(
    context: StageContext,
    attributes: Readonly<Attributes>,
    private readonly state: LimitDataState,
  ) {
    super(context);
    this.limitBytes = int(attributes, 'bytes');
  }

  write(chunk: Buffer): void {
    if (this.closed) return;
    const remaining = Math.max(0, this.limitBytes - this.state.transmittedBytes);
    const piece = remaining < chunk.length ? chunk.subarray(0, remaining) : chunk;
    if (piece.length > 0) {
      this.state.transmittedBytes += piece.length;
      this.next.write(piece);
    }
    if (this.limitBytes - this.state.transmittedBytes <= 0) this.end();
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.next.end();
  }
}
