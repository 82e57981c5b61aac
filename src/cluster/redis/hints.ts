/**
 * Ejection hints: a node that takes a server out (passive ejection, or its active checks turning
 * unhealthy) says so on `<prefix>hints`; every other node that has the same server probes it at once
 * with its own health check and keeps it out while that check fails, for at most `cluster.hint_for`.
 *
 * Health and breaker state stay each node's own, as in Envoy and HAProxy: a hint never ejects a
 * server, it only makes the others look sooner. A node without active checks has nothing to look
 * with and ignores hints; no node lets a hint take out the last server it still finds usable (see
 * UpstreamGuard.applyHint). Unix-socket servers are a node's own and are never hinted.
 */
import { randomBytes } from 'node:crypto';
import type { GatewayEvent } from '../../observe/index.js';
import type { Runtime } from '../../proxy/index.js';
import type { RedisLink } from './link.js';

/** One hint on the channel (JSON). */
export interface EjectionHint {
  node_id: string;
  upstream: string;
  /** `host:port`, as logs, metrics and events name servers. */
  server: string;
  reason: string;
  /** ISO time of the ejection on the sending node. */
  at: string;
  /**
   * The sending process: worker processes of one node share its node_id but not their guards, so a
   * hint is "our own" only when it comes from this very process.
   */
  instance?: string;
}

export interface HintStats {
  published: number;
  received: number;
  /** Received hints that took a server out here pending its probe. */
  applied: number;
  /** Received hints for a server this node does not have, cannot probe, or malformed. */
  ignored: number;
}

export interface EjectionHintsOptions {
  channel: string;
  nodeId: string;
  runtime: () => Runtime;
  /** Longest time a hint keeps a server out (ms), read at each hint so that a reload applies. */
  hintForMs: () => number;
  info: (record: Record<string, unknown>) => void;
}

/** What an event says when it is this node ejecting a server, else undefined. */
export function hintOf(event: GatewayEvent, nodeId: string, instance: string): EjectionHint | undefined {
  const { upstream, server } = event as { upstream?: string; server?: string };
  if (upstream === undefined || server === undefined || server.startsWith('unix:')) return undefined;
  let reason: string;
  if (event.kind === 'ejected') reason = event.reason;
  else if (event.kind === 'health' && event.to === 'unhealthy') reason = `active check: ${event.reason}`;
  else return undefined;
  return { node_id: nodeId, upstream, server, reason, at: new Date().toISOString(), instance };
}

/** A message from the channel as a hint, or undefined when it is not one. */
export function parseHint(text: string): EjectionHint | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const hint = value as Record<string, unknown>;
  for (const field of ['node_id', 'upstream', 'server', 'reason', 'at'] as const) {
    if (typeof hint[field] !== 'string') return undefined;
  }
  if (hint.instance !== undefined && typeof hint.instance !== 'string') return undefined;
  return value as EjectionHint;
}

export class EjectionHints {
  readonly stats: HintStats = { published: 0, received: 0, applied: 0, ignored: 0 };
  /** This process among the node's workers. */
  readonly instance = randomBytes(6).toString('hex');
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel === this.options.channel) this.receive(message);
  };

  constructor(
    private readonly link: RedisLink,
    private readonly options: EjectionHintsOptions,
  ) {}

  /**
   * Subscribes to the channel (the subscriber connection resubscribes after every reconnect). Resolves
   * once subscribed, or after `waitMs` when Redis does not answer: the node starts either way.
   */
  async start(waitMs = 1000): Promise<void> {
    this.link.subscriber.on('message', this.onMessage);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.link.subscriber.subscribe(this.options.channel).catch(() => {
        // Only fails when the link is stopped before it ever connected.
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  stop(): void {
    this.link.subscriber.off('message', this.onMessage);
  }

  /** Every gateway event passes here; this node's own ejections go out as hints. */
  observe(event: GatewayEvent): void {
    const hint = hintOf(event, this.options.nodeId, this.instance);
    if (hint === undefined || !this.link.up) return;
    this.stats.published++;
    this.link.client
      .publish(this.options.channel, JSON.stringify(hint))
      .catch((error: unknown) => this.link.failed('hint', error));
  }

  /** A hint from the channel: probe the server here and keep it out while the probe fails. */
  receive(message: string): void {
    const hint = parseHint(message);
    if (hint === undefined) {
      this.stats.ignored++;
      return;
    }
    // Our own hints come back to us too.
    if (hint.instance === undefined ? hint.node_id === this.options.nodeId : hint.instance === this.instance) return;
    this.stats.received++;
    const runtime = this.options.runtime();
    const upstream = runtime.upstreams.get(hint.upstream);
    const guard = runtime.guards.get(hint.upstream);
    let applied = 0;
    if (upstream !== undefined && guard !== undefined) {
      const forMs = this.options.hintForMs();
      for (const server of upstream.servers) {
        if (server.address === hint.server && server.kind !== 'unix' && guard.applyHint(server.index, forMs)) applied++;
      }
    }
    if (applied === 0) {
      this.stats.ignored++;
      return;
    }
    this.stats.applied++;
    this.options.info({
      msg: 'ejection hint: another node took this server out; probing it now and holding it out while the probe fails',
      from_node: hint.node_id,
      upstream: hint.upstream,
      server: hint.server,
      reason: hint.reason,
      ejected_at: hint.at,
      hint_for_ms: this.options.hintForMs(),
    });
  }
}
