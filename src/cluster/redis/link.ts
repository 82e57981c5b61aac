/**
 * The connection to Redis that every piece of shared state goes through, and the one place that knows
 * whether Redis can be used now. Nothing on the request path ever waits for Redis: commands are never
 * queued while the connection is down (they fail at once), and a command without an answer within
 * `command_timeout` fails too; either way the callers fall back to what this node knows alone.
 *
 * Two connections, as Redis requires: one for commands, one in subscriber mode for the hint channel.
 * Both reconnect on their own with a capped, jittered backoff.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from '../../config/index.js';

/** connecting: not yet answered; up: commands are answered; down: unreachable or not answering. */
export type LinkState = 'connecting' | 'up' | 'down';

export interface RedisLinkOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  commandTimeoutMs: number;
  warn: (record: Record<string, unknown>) => void;
  info: (record: Record<string, unknown>) => void;
}

/** What the metrics read. */
export interface LinkStats {
  /** Times Redis became unreachable (or stopped answering) after being reachable or at start. */
  unavailable: number;
  /** Failed commands by operation (rate_limit, hint, alert_claim, ping). */
  failures: Map<string, number>;
}

/** Longest wait between two reconnection attempts: Redis back means shared again within about this. */
export const MAX_RECONNECT_DELAY_MS = 1000;
/**
 * While the connection stands but commands fail (a hung or out-of-memory Redis), a PING after this
 * long finds out when it answers again. Outages of this kind that follow each other within
 * FLAP_WINDOW_MS double the wait, up to MAX_PROBE_DELAY_MS: a Redis that answers PING but fails every
 * real command costs a warning every few seconds, not two a second.
 */
const PROBE_DELAY_MS = 500;
const MAX_PROBE_DELAY_MS = 8000;
const FLAP_WINDOW_MS = 60_000;
/** How long `start()` waits for a first answer before the node starts on local state. */
const START_WAIT_MS = 1000;

/** Reconnection backoff: 50 ms doubling to MAX_RECONNECT_DELAY_MS, with ±20% jitter so nodes spread out. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + random() * 0.4));
}

export class RedisLink {
  /** Commands and Lua scripts. */
  readonly client: Redis;
  /** Subscriber mode only (a subscribed connection can run nothing else). */
  readonly subscriber: Redis;
  state: LinkState = 'connecting';
  /** `state === 'up'`, as a field the request path reads. */
  up = false;
  /**
   * Increases every time Redis becomes usable again: state built on an earlier connection (a rate
   * limit lease) is not trusted across an outage.
   */
  epoch = 0;
  readonly stats: LinkStats = { unavailable: 0, failures: new Map() };
  readonly displayUrl: string;
  private readonly listeners = new Set<(state: LinkState) => void>();
  private probeTimer: NodeJS.Timeout | undefined;
  /** Outages found by failed commands in a row (each within FLAP_WINDOW_MS of the one before). */
  private flaps = 0;
  private lastFlapMs = 0;
  private stopped = false;
  private lastError = '';

  constructor(private readonly options: RedisLinkOptions) {
    this.displayUrl = redactUrl(options.url);
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: Math.max(1000, options.commandTimeoutMs * 5),
      retryStrategy: (attempt) => (this.stopped ? null : reconnectDelayMs(attempt)),
      // A connection that is down refuses commands at once instead of holding them.
      maxRetriesPerRequest: 0,
    };
    this.client = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      commandTimeout: options.commandTimeoutMs,
      // Commands issued in the same tick (leases of many keys) go out in one write.
      enableAutoPipelining: true,
    });
    // The subscriber only ever holds SUBSCRIBE; queueing it until connected (and resubscribing after a
    // reconnect) costs the request path nothing.
    this.subscriber = new Redis(options.url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.client.on('ready', () => this.setState('up'));
    this.client.on('close', () => this.setState('down'));
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    this.subscriber.on('error', () => {
      // Reported through the command connection's state; the subscriber reconnects on its own.
    });
  }

  /** Connects both connections; resolves once Redis answers, fails, or START_WAIT_MS passes. */
  async start(): Promise<void> {
    const settled = new Promise<void>((resolve) => {
      const timer = setTimeout(done, START_WAIT_MS);
      timer.unref();
      const off = this.onState(done);
      function done(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    // Connection failures are retried by the reconnect strategy and reported as state: not thrown here.
    this.client.connect().catch(() => undefined);
    this.subscriber.connect().catch(() => undefined);
    await settled;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.listeners.clear();
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onState(listener: (state: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A command failed (timed out, refused, connection gone). Redis counts as unreachable until a
   * command is answered again; while the connection itself stands, a PING finds out when.
   */
  failed(operation: string, error: unknown): void {
    this.stats.failures.set(operation, (this.stats.failures.get(operation) ?? 0) + 1);
    if (this.stopped) return;
    this.lastError = error instanceof Error ? error.message : String(error);
    if (this.state !== 'up') return;
    const now = Date.now();
    this.flaps = now - this.lastFlapMs < FLAP_WINDOW_MS ? this.flaps + 1 : 0;
    this.lastFlapMs = now;
    this.setState('down');
    if (this.client.status === 'ready')
      this.scheduleProbe(Math.min(MAX_PROBE_DELAY_MS, PROBE_DELAY_MS * 2 ** this.flaps));
  }

  private scheduleProbe(delayMs: number): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => this.probe(delayMs), delayMs);
    this.probeTimer.unref();
  }

  private probe(delayMs: number): void {
    this.probeTimer = undefined;
    // The connection went too: its own reconnection decides from here.
    if (this.stopped || this.state === 'up' || this.client.status !== 'ready') return;
    this.client.ping().then(
      () => this.setState('up'),
      (error: unknown) => {
        this.stats.failures.set('ping', (this.stats.failures.get('ping') ?? 0) + 1);
        this.lastError = error instanceof Error ? error.message : String(error);
        this.scheduleProbe(delayMs);
      },
    );
  }

  /** One log record per change of state, never one per failed command. */
  private setState(state: LinkState): void {
    if (this.stopped || state === this.state) return;
    const from = this.state;
    this.state = state;
    this.up = state === 'up';
    if (state === 'up') {
      this.epoch++;
      this.options.info({
        msg:
          from === 'connecting'
            ? 'redis connected: shared state is on'
            : 'redis reachable again: cluster rate limits, ejection hints and alert de-duplication are shared again',
        redis: this.displayUrl,
      });
    } else {
      this.stats.unavailable++;
      this.options.warn({
        msg: 'redis unreachable: rate limits with scope cluster are enforced per node, ejection hints and alert de-duplication are off until it answers again',
        redis: this.displayUrl,
        error: this.lastError || undefined,
      });
    }
    for (const listener of this.listeners) listener(state);
  }
}
