/**
 * One direction of one proxied connection: source socket → a stage per toxic → destination socket,
 * as Toxiproxy's ToxicLink. Toxics added, updated or removed while the connection is open change
 * its chain at once; what a stage holds is handed on, never dropped.
 */
import type { Socket } from 'node:net';
import { PassStage, type Sink, type Stage, type StageContext } from './stage.js';
import type { Toxic, ToxicStream } from './toxic.js';
import { TOXICS } from './toxics/index.js';

/** Reading the source stops while the chain and the destination hold this much, and resumes below half. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = HIGH_WATER_BYTES / 2;

/** What a link needs from its connection. */
export interface LinkOwner {
  /** The chain passed the end of the stream to the destination. */
  linkFinished(link: Link): void;
  resetOnClose(): void;
  tapClient(handler: (chunk: Buffer) => void): () => void;
}

interface Slot {
  readonly toxic: Toxic;
  /** The toxic's per-connection state, kept across updates (limit_data's byte count). */
  readonly state: unknown;
  stage: Stage;
}

export class Link {
  private readonly slots: Slot[] = [];
  private readonly context: StageContext;
  /** Where the source's bytes enter; its `next` is the first stage. */
  private readonly entry: Stage;
  private readonly exit: Sink;
  private sourceDone = false;
  private destGone = false;
  private paused = false;
  /** The end of the stream reached the destination (or the link was torn down). */
  finished = false;

  constructor(
    private readonly owner: LinkOwner,
    readonly stream: ToxicStream,
    readonly source: Socket,
    readonly dest: Socket,
    toxics: readonly Toxic[],
  ) {
    this.context = {
      stream,
      released: () => this.checkPressure(),
      resetOnClose: () => owner.resetOnClose(),
      tapClient: (handler) => owner.tapClient(handler),
    };
    this.entry = new PassStage(this.context);
    this.exit = {
      write: (chunk) => {
        if (!this.finished && !this.destGone) this.dest.write(chunk);
      },
      end: () => {
        if (this.finished) return;
        this.finished = true;
        this.owner.linkFinished(this);
      },
    };
    dest.on('drain', () => this.checkPressure());
    for (const toxic of toxics) this.slots.push(this.slotFor(toxic));
    this.rewire();
  }

  /** Bytes from the source. */
  push(chunk: Buffer): void {
    if (this.sourceDone) return;
    this.entry.next.write(chunk);
    this.checkPressure();
  }

  /** The source is done (EOF, error or closed): the end travels down the chain after the data. */
  sourceEnded(): void {
    if (this.sourceDone) return;
    this.sourceDone = true;
    this.entry.next.end();
  }

  /** The destination socket is closed: nothing more can be written to it. */
  destinationClosed(): void {
    this.destGone = true;
  }

  addToxic(toxic: Toxic): void {
    this.slots.push(this.slotFor(toxic));
    this.rewire();
  }

  /** A new stage with the toxic's new attributes (and a new toxicity roll) takes the old one's place. */
  updateToxic(toxic: Toxic): void {
    const slot = this.slots.find((s) => s.toxic === toxic);
    if (slot === undefined) return;
    const old = slot.stage;
    slot.stage = this.stageFor(toxic, slot.state);
    this.rewire();
    old.detach('replaced');
  }

  removeToxic(toxic: Toxic): void {
    const index = this.slots.findIndex((s) => s.toxic === toxic);
    if (index < 0) return;
    const [slot] = this.slots.splice(index, 1);
    this.rewire();
    // The removed stage still points at its old successor, so what it holds goes on in order.
    slot!.stage.detach('removed');
  }

  /** The connection is gone: every stage stops its timers. */
  destroy(): void {
    this.finished = true;
    for (const slot of this.slots) slot.stage.destroy();
  }

  private slotFor(toxic: Toxic): Slot {
    const state = TOXICS[toxic.type].newState();
    return { toxic, state, stage: this.stageFor(toxic, state) };
  }

  /** Toxicity is rolled when the toxic meets the link, as ToxicStub.Run does (rand < toxicity). */
  private stageFor(toxic: Toxic, state: unknown): Stage {
    if (Math.random() < toxic.toxicity) return TOXICS[toxic.type].create(this.context, toxic.attributes, state);
    return new PassStage(this.context);
  }

  private rewire(): void {
    let previous = this.entry;
    for (const slot of this.slots) {
      previous.next = slot.stage;
      previous = slot.stage;
    }
    previous.next = this.exit;
  }

  private heldBytes(): number {
    let held = this.dest.writableLength;
    for (const slot of this.slots) held += slot.stage.heldBytes;
    return held;
  }

  /** Backpressure across the chain: a slow toxic or a slow destination stops reading the source. */
  private checkPressure(): void {
    if (this.sourceDone) return;
    const held = this.heldBytes();
    if (!this.paused && held >= HIGH_WATER_BYTES) {
      this.paused = true;
      this.source.pause();
    } else if (this.paused && held < LOW_WATER_BYTES) {
      this.paused = false;
      this.source.resume();
    }
  }
}
