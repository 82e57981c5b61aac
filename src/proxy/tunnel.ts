/**
 * A WebSocket (or any 101 upgrade) tunnel: after the 101 the two sockets exchange raw bytes with
 * backpressure both ways, until either side closes or nothing moves for the idle timeout.
 */
import type { Socket } from 'node:net';
import type { Clock, Sweepable } from './clock.js';

export class Tunnel implements Sweepable {
  private lastActivity: number;
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    early: Buffer | null,
    private readonly idleTimeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.lastActivity = clock.now;
    if (early !== null && early.length > 0) upstream.write(early);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    client.once('close', this.close);
    upstream.once('close', this.close);
    client.on('error', this.ignore);
    upstream.on('error', this.ignore);
    if (client.isPaused()) client.resume();
    if (upstream.isPaused()) upstream.resume();
    if (idleTimeoutMs > 0) clock.add(this);
  }

  private pipe(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      this.lastActivity = this.clock.now;
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.once('end', () => to.end());
  }

  private readonly ignore = (): void => {
    // Errors end in 'close', which tears the tunnel down.
  };

  private readonly close = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.clock.delete(this);
    this.client.destroy();
    this.upstream.destroy();
  };

  sweep(nowMs: number): void {
    if (nowMs - this.lastActivity >= this.idleTimeoutMs) this.close();
  }
}
