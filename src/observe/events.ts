import type { ResilienceEvent } from '../resilience/index.js';
import type { ProcessEvent } from '../supervise/supervisor.js';
import type { AlertTransition } from './alerts/engine.js';

/**
 * The gateway's events: every state transition of a server or upstream (health, ejection, breaker,
 * drain, panic, DNS, managed process) and every alert transition is one typed value, emitted once and consumed by subscribers (logs now; metrics,
 * alerts and the dashboard later). Nothing observes by reaching into the core.
 */
export type GatewayEvent =
  | ResilienceEvent
  | AlertTransition
  | ProcessEvent
  | { kind: 'health'; upstream: string; server: string; from: string; to: string; reason: string }
  | { kind: 'drain'; upstream: string; server: string; draining: boolean }
  | { kind: 'panic'; upstream: string; active: boolean; available: number; total: number }
  | { kind: 'dns'; upstream: string; host: string; addresses: string[]; error?: string };

export type EventKind = GatewayEvent['kind'];
export type Stamped<E extends GatewayEvent = GatewayEvent> = E & { at: string };

const RECENT = 200;

export class EventBus {
  private readonly listeners = new Set<(event: Stamped) => void>();
  private readonly ring: Stamped[] = [];
  private next = 0;
  /** Events seen, by kind (for the admin API; Prometheus counters subscribe the same way). */
  readonly counts: Partial<Record<EventKind, number>> = {};

  on(listener: (event: Stamped) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: GatewayEvent): void {
    const stamped = { ...event, at: new Date().toISOString() } as Stamped;
    this.counts[event.kind] = (this.counts[event.kind] ?? 0) + 1;
    if (this.ring.length < RECENT) this.ring.push(stamped);
    else this.ring[this.next] = stamped;
    this.next = (this.next + 1) % RECENT;
    for (const listener of this.listeners) listener(stamped);
  }

  /** The most recent events, oldest first. */
  recent(): Stamped[] {
    return this.ring.length < RECENT
      ? [...this.ring]
      : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
