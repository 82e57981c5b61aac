/**
 * One socket to an upstream server. Listeners are bound once per connection and forward to whichever
 * exchange currently owns it; between exchanges the connection sits in its server's idle list.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { UpstreamServer } from '../upstream/index.js';

export interface UpstreamOwner {
  onUpstreamConnect(conn: UpstreamConnection): void;
  onUpstreamData(conn: UpstreamConnection, chunk: Buffer): void;
  onUpstreamDrain(conn: UpstreamConnection): void;
  /** The socket closed. `error` is what the socket reported, if anything; a clean FIN has none. */
  onUpstreamClose(conn: UpstreamConnection, error: Error | undefined): void;
}

export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly server: UpstreamServer<UpstreamConnection>;
  owner: UpstreamOwner | null;
  connected = false;
  /** The host name was resolved (or no lookup was needed): tells a DNS timeout from a connect timeout. */
  resolved: boolean;
  /** Exchanges completed on this connection. */
  served = 0;
  /** When an idle connection must be closed (ms, coarse clock). */
  idleUntil = 0;
  /** When the connection last went idle (ms, coarse clock). */
  idleSince = 0;
  /** The upstream's `Keep-Alive: timeout=` hint, in ms (-1 when none). */
  keepAliveHintMs = -1;
  closed = false;
  private error: Error | undefined;

  constructor(server: UpstreamServer<UpstreamConnection>, owner: UpstreamOwner) {
    this.server = server;
    this.owner = owner;
    this.resolved = server.kind === 'unix' || net.isIP(server.host) !== 0;
    const socket =
      server.kind === 'https'
        ? tls.connect({
            host: server.host,
            port: server.port,
            servername: server.tls?.servername,
            ca: server.tls?.ca,
            rejectUnauthorized: server.tls?.rejectUnauthorized ?? true,
            ALPNProtocols: server.tls?.ALPNProtocols,
          })
        : server.kind === 'unix'
          ? net.connect({ path: server.socketPath })
          : net.connect({ host: server.host, port: server.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(server.kind === 'https' ? 'secureConnect' : 'connect', this.handleConnect);
    if (!this.resolved) socket.once('lookup', this.handleLookup);
    socket.on('data', this.handleData);
    socket.on('drain', this.handleDrain);
    socket.on('error', this.handleError);
    socket.once('close', this.handleClose);
    server.open++;
  }

  write(data: Buffer | string, encoding?: BufferEncoding): boolean {
    return encoding ? this.socket.write(data as string, encoding) : this.socket.write(data);
  }

  /**
   * Hands the socket over to a tunnel: this object lets go of it (listeners removed, no longer
   * counted as a pooled connection) and the tunnel owns it from now on.
   */
  detach(): net.Socket {
    const socket = this.socket;
    socket.removeListener('data', this.handleData);
    socket.removeListener('drain', this.handleDrain);
    socket.removeListener('error', this.handleError);
    socket.removeListener('close', this.handleClose);
    this.owner = null;
    this.closed = true;
    this.server.open--;
    return socket;
  }

  destroy(): void {
    if (!this.closed) this.socket.destroy();
  }

  private readonly handleLookup = (): void => {
    this.resolved = true;
  };

  private readonly handleConnect = (): void => {
    this.connected = true;
    this.owner?.onUpstreamConnect(this);
  };

  private readonly handleData = (chunk: Buffer): void => {
    if (this.owner !== null) this.owner.onUpstreamData(this, chunk);
    else this.socket.destroy(); // bytes on an idle connection: nothing can be trusted on it any more
  };

  private readonly handleDrain = (): void => {
    this.owner?.onUpstreamDrain(this);
  };

  private readonly handleError = (error: Error): void => {
    this.error ??= error;
  };

  private readonly handleClose = (): void => {
    this.closed = true;
    this.server.open--;
    const owner = this.owner;
    this.owner = null;
    if (owner !== null) {
      owner.onUpstreamClose(this, this.error);
    } else {
      const idle = this.server.idle;
      const at = idle.indexOf(this);
      if (at >= 0) idle.splice(at, 1);
    }
  };
}
