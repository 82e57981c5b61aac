import type { EventSink, ResilienceEvent } from '../../src/resilience/index.js';

/** A sink that keeps every event, and a fake coarse clock moved by hand. */
export function recorder(): { events: ResilienceEvent[]; sink: EventSink } {
  const events: ResilienceEvent[] = [];
  return { events, sink: (event) => events.push(event) };
}

export interface FakeTime {
  now: number;
}
