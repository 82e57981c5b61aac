/** Admission settings of one upstream; durations in ms. */
export interface AdmissionQueueOptions {
  /** Requests in flight to the upstream at once; 0 = no limit. */
  readonly max_inflight: number;
  /** Requests that may wait for a slot; 0 = none wait. */
  readonly queue: number;
  /** A request waiting this long is answered 503 connection_limit_reached. */
  readonly queue_timeout: number;
}

/**
 * Concurrency limit plus a bounded FIFO wait queue for one upstream (HAProxy's maxconn + queue, nginx's
 * max_conns + queue). A slot freed by release() goes straight to the longest waiter, so waiters are never
 * overtaken by newcomers: while anyone waits, every slot is taken.
 *
 * The queue is a ring buffer of fixed size allocated once: enqueue and dequeue are O(1) and allocate
 * nothing. Waiting is not timed per request: the gateway's periodic sweep calls expire().
 */
export class AdmissionQueue<T> {
  readonly maxInflight: number;
  readonly capacity: number;
  readonly queueTimeoutMs: number;
  private readonly items: (T | undefined)[];
  private readonly enqueuedAtMs: Float64Array;
  private head = 0;
  private count = 0;
  private running = 0;
  /** How long the waiter last returned by release() waited, ms. */
  lastWaitMs = 0;

  constructor(options: AdmissionQueueOptions) {
    this.maxInflight = options.max_inflight > 0 ? options.max_inflight : Number.POSITIVE_INFINITY;
    this.capacity = Math.max(0, Math.floor(options.queue));
    this.queueTimeoutMs = options.queue_timeout;
    this.items = new Array<T | undefined>(this.capacity).fill(undefined);
    this.enqueuedAtMs = new Float64Array(this.capacity);
  }

  /** Requests admitted and not yet released. */
  get inflight(): number {
    return this.running;
  }

  /** Requests waiting. */
  get length(): number {
    return this.count;
  }

  /** Take a slot now if one is free and nobody is waiting for it. */
  tryAdmit(): boolean {
    if (this.running >= this.maxInflight || this.count > 0) return false;
    this.running++;
    return true;
  }

  /** Wait for a slot; false when the queue is full (answer 503 at once). */
  enqueue(item: T, now: number): boolean {
    if (this.count >= this.capacity) return false;
    const slot = (this.head + this.count) % this.capacity;
    this.items[slot] = item;
    this.enqueuedAtMs[slot] = now;
    this.count++;
    return true;
  }

  /**
   * A request finished and frees its slot. When someone waits, the slot passes to the longest waiter,
   * which is returned and counts as admitted; the caller starts it. Otherwise undefined. `lastWaitMs`
   * then holds how long it waited (for its log record). A waiter just past queue_timeout that the sweep
   * has not reached yet is still admitted: serving it beats a 503.
   */
  release(now: number): T | undefined {
    if (this.count > 0) {
      this.lastWaitMs = now - this.enqueuedAtMs[this.head]!;
      return this.shift();
    }
    if (this.running > 0) this.running--;
    return undefined;
  }

  /** Remove the waiters that have waited queue_timeout or longer, oldest first, handing each to onExpired. */
  expire(now: number, onExpired: (item: T) => void): void {
    while (this.count > 0 && now - this.enqueuedAtMs[this.head]! >= this.queueTimeoutMs) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      onExpired(item);
    }
  }

  /**
   * Remove a waiter whose client went away; false when it is not waiting (already admitted or expired).
   * O(length): it closes the gap by moving the later waiters up, which keeps the ring contiguous.
   */
  remove(item: T): boolean {
    for (let offset = 0; offset < this.count; offset++) {
      if (this.items[(this.head + offset) % this.capacity] !== item) continue;
      for (let later = offset + 1; later < this.count; later++) {
        const from = (this.head + later) % this.capacity;
        const to = (this.head + later - 1) % this.capacity;
        this.items[to] = this.items[from];
        this.enqueuedAtMs[to] = this.enqueuedAtMs[from]!;
      }
      this.items[(this.head + this.count - 1) % this.capacity] = undefined;
      this.count--;
      return true;
    }
    return false;
  }

  /** Time the longest waiter has waited, 0 when none (for metrics). */
  oldestWaitMs(now: number): number {
    return this.count > 0 ? now - this.enqueuedAtMs[this.head]! : 0;
  }

  private shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    // The slot passes from the finished request to this one: inflight is unchanged.
    return item;
  }
}
