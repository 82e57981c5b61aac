/**
 * Toxiproxy's toxics that hold data back (latency, bandwidth, slicer) as stages, each doing what its
 * toxics/*.go does to the bytes of one direction of one connection. Attributes are read once, when
 * the stage is made: an update makes a new stage (see link.ts), as Toxiproxy restarts the toxic.
 */
import { type DetachReason, nowMs, Stage, type StageContext } from '../stage.js';
import type { Attributes } from '../toxic.js';

/** An integer attribute (parseToxic checked that it is one). */
export const int = (attributes: Readonly<Attributes>, key: string): number => attributes[key] as number;

/** One held item: a chunk, or the end of the stream (null), with when it may leave. */
interface Held {
  data: Buffer | null;
  dueAt: number;
}

/**
 * Passes held items on in order, each not before its `dueAt`. Shared by latency and bandwidth;
 * removal flushes everything at once (Toxiproxy: "don't drop any data on the floor").
 */
abstract class ScheduledStage extends Stage {
  protected readonly queue: Held[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  protected hold(data: Buffer | null, dueAt: number): void {
    if (data !== null) this.heldBytes += data.length;
    this.queue.push({ data, dueAt });
    this.schedule();
  }

  /** Passes on the head item; subclasses override to pass part of it. */
  protected emitHead(): void {
    const item = this.queue.shift()!;
    this.pass(item.data);
  }

  protected pass(data: Buffer | null): void {
    if (data === null) {
      this.ended = true;
      this.next.end();
      return;
    }
    this.heldBytes -= data.length;
    this.next.write(data);
  }

  protected schedule(): void {
    if (this.timer !== undefined || this.ended) return;
    let emitted = false;
    while (this.queue.length > 0 && !this.ended) {
      const waitMs = this.queue[0]!.dueAt - nowMs();
      if (waitMs > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.schedule();
        }, waitMs);
        break;
      }
      this.emitHead();
      emitted = true;
    }
    if (emitted) this.context.released();
  }

  override detach(_reason: DetachReason): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && !this.ended) this.pass(this.queue.shift()!.data);
  }

  override destroy(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.heldBytes = 0;
  }
}

/** latency: each chunk leaves `latency` ± `jitter` ms after it arrived, in order (toxics/latency.go). */
export class LatencyStage extends ScheduledStage {
  constructor(
    context: StageContext,
    private readonly attributes: Readonly<Attributes>,
  ) {
    super(context);
  }

  private delayMs(): number {
    const latency = int(this.attributes, 'latency');
    const jitter = int(this.attributes, 'jitter');
    // latency.go: rand.Int63n(jitter*2) - jitter, so the delay lies in [latency - jitter, latency + jitter).
    return jitter > 0 ? latency + Math.floor(Math.random() * jitter * 2) - jitter : latency;
  }

  write(chunk: Buffer): void {
    this.hold(chunk, nowMs() + this.delayMs());
  }

  /** The end follows the data held before it, with no delay of its own. */
  end(): void {
    this.hold(null, 0);
  }
}

/** Slices larger than this many milliseconds of data leave in pieces (bandwidth.go sends 100 ms worth at a time). */
const BANDWIDTH_SLICE_MS = 100;

/** bandwidth: at most `rate` KB/s; `rate` ≤ 0 lets everything through. */
export class BandwidthStage extends ScheduledStage {
  /** When the link is free again: transmission times add up, so timer overshoot is made good. */
  private freeAt = 0;
  private readonly bytesPerMs: number;

  constructor(context: StageContext, attributes: Readonly<Attributes>) {
    super(context);
    // KB/s with K = 1000 is bytes per millisecond.
    this.bytesPerMs = int(attributes, 'rate');
  }

  write(chunk: Buffer): void {
    if (this.bytesPerMs <= 0) {
      this.hold(chunk, 0);
      return;
    }
    const sliceBytes = this.bytesPerMs * BANDWIDTH_SLICE_MS;
    for (let offset = 0; offset < chunk.length; offset += sliceBytes) {
      const slice = chunk.subarray(offset, offset + sliceBytes);
      this.freeAt = Math.max(this.freeAt, nowMs()) + slice.length / this.bytesPerMs;
      this.hold(slice, this.freeAt);
    }
  }

  end(): void {
    this.hold(null, 0);
  }
}

/**
 * slicer: each chunk is cut into pieces of about `average_size` (± `size_variation`) bytes that
 * leave `delay` µs apart (toxics/slicer.go's recursive halving). Timers have millisecond grain, so
 * a delay under 1000 µs waits about 1 ms; 0 sends the pieces at once, as separate writes.
 */
export class SlicerStage extends Stage {
  private readonly queue: (Buffer | null)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly averageBytes: number;
  private readonly variationBytes: number;
  private readonly delayMs: number;

  constructor(context: StageContext, attributes: Readonly<Attributes>) {
    super(context);
    // slicer.go recurses forever on an average of 0; a piece is at least one byte.
    this.averageBytes = Math.max(1, int(attributes, 'average_size'));
    this.variationBytes = Math.max(0, int(attributes, 'size_variation'));
    this.delayMs = Math.max(0, int(attributes, 'delay')) / 1000;
  }

  write(chunk: Buffer): void {
    const cuts: number[] = [];
    this.cut(0, chunk.length, cuts);
    for (let i = 1; i < cuts.length; i += 2) {
      const piece = chunk.subarray(cuts[i - 1]!, cuts[i]!);
      this.heldBytes += piece.length;
      this.queue.push(piece);
    }
    this.pump();
  }

  end(): void {
    this.queue.push(null);
    this.pump();
  }

  /** slicer.go's chunk(): halve around the middle (± variation) until a piece is near the average. */
  private cut(start: number, end: number, out: number[]): void {
    if (end - start - this.averageBytes <= this.variationBytes || end - start < 2) {
      out.push(start, end);
      return;
    }
    let middle = start + Math.floor((end - start) / 2);
    if (this.variationBytes > 0) middle += Math.floor(Math.random() * this.variationBytes * 2) - this.variationBytes;
    // Kept strictly inside, so every half is smaller than the whole and the recursion ends.
    middle = Math.min(end - 1, Math.max(start + 1, middle));
    this.cut(start, middle, out);
    this.cut(middle, end, out);
  }

  private pump(): void {
    let passed = false;
    while (this.timer === undefined && this.queue.length > 0) {
      const piece = this.queue.shift()!;
      if (piece === null) {
        this.next.end();
        break;
      }
      this.heldBytes -= piece.length;
      this.next.write(piece);
      passed = true;
      if (this.delayMs > 0)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, this.delayMs);
    }
    if (passed) this.context.released();
  }

  override detach(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const piece of this.queue.splice(0)) {
      if (piece === null) this.next.end();
      else this.next.write(piece);
    }
    this.heldBytes = 0;
  }

  override destroy(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.heldBytes = 0;
  }
}
