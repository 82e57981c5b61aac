/**
 * One client connection through a fault proxy and the upstream connection opened for it, with a
 * link each way. As in Toxiproxy, when one link ends its destination is closed and the other link
 * then ends too (no half-close survives the proxy); after reset_peer every close is a reset.
 */
import type { Socket } from 'node:net';
import { Link, type LinkOwner } from './link.js';
import type { Toxic, ToxicStream } from './toxic.js';

export interface ConnectionOwner {
  connectionClosed(connection: Connection): void;
}

export class Connection implements LinkOwner {
  /** client → upstream (Toxiproxy's `upstream` stream). */
  readonly upstreamLink: Link;
  /** upstream → client (Toxiproxy's `downstream` stream). */
  readonly downstreamLink: Link;
  private readonly taps = new Set<(chunk: Buffer) => void>();
  private resetting = false;
  private openSockets = 2;
  private done = false;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly client: Socket,
    readonly upstream: Socket,
    toxics: readonly Toxic[],
  ) {
    this.upstreamLink = new Link(
      this,
      'upstream',
      client,
      upstream,
      toxics.filter((t) => t.stream === 'upstream'),
    );
    this.downstreamLink = new Link(
      this,
      'downstream',
      upstream,
      client,
      toxics.filter((t) => t.stream === 'downstream'),
    );
    this.wire(client, this.upstreamLink, this.downstreamLink, (chunk) => this.fromClient(chunk));
    this.wire(upstream, this.downstreamLink, this.upstreamLink, (chunk) => this.downstreamLink.push(chunk));
    client.resume();
  }

  link(stream: ToxicStream): Link {
    return stream === 'upstream' ? this.upstreamLink : this.downstreamLink;
  }

  /** Closes both sockets now (the proxy was disabled or removed). */
  close(): void {
    this.closeSocket(this.client);
    this.closeSocket(this.upstream);
    this.teardown();
  }

  linkFinished(link: Link): void {
    if (this.resetting) {
      this.close();
      return;
    }
    const dest = link.dest;
    // Toxiproxy closes the destination outright: it is no longer read either.
    dest.end(() => dest.destroy());
    this.otherLink(link).sourceEnded();
  }

  resetOnClose(): void {
    this.resetting = true;
  }

  tapClient(handler: (chunk: Buffer) => void): () => void {
    this.taps.add(handler);
    return () => this.taps.delete(handler);
  }

  private wire(socket: Socket, readLink: Link, writeLink: Link, onData: (chunk: Buffer) => void): void {
    socket.on('data', onData);
    socket.on('end', () => readLink.sourceEnded());
    // An error is followed by 'close'; what it means for the links is decided there.
    socket.on('error', () => {});
    socket.on('close', () => {
      readLink.sourceEnded();
      writeLink.destinationClosed();
      if (--this.openSockets === 0) this.teardown();
    });
  }

  private fromClient(chunk: Buffer): void {
    if (this.taps.size === 0) {
      this.upstreamLink.push(chunk);
      return;
    }
    for (const tap of [...this.taps]) tap(chunk);
  }

  private otherLink(link: Link): Link {
    return link === this.upstreamLink ? this.downstreamLink : this.upstreamLink;
  }

  private closeSocket(socket: Socket): void {
    if (socket.destroyed) return;
    // RST exists only on TCP sockets, which these always are.
    if (this.resetting) socket.resetAndDestroy();
    else socket.destroy();
  }

  private teardown(): void {
    if (this.done) return;
    this.done = true;
    this.upstreamLink.destroy();
    this.downstreamLink.destroy();
    this.taps.clear();
    this.owner.connectionClosed(this);
  }
}
