/**
 * One fault proxy: a TCP listener whose every accepted connection opens one to the upstream and
 * carries the proxy's toxics both ways (Toxiproxy's proxy.go). Disabled (`down`), it listens to
 * nothing, so connecting is refused, and every connection it had is closed.
 */
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { formatHostPort, type HostPort, parseHostPort } from './address.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { FaultProxyError } from './errors.js';
import type { Toxic, ToxicInfo } from './toxic.js';

/** A proxy as the control API shows it: Toxiproxy's JSON, field for field and in its order. */
export interface ProxyInfo {
  name: string;
  /** The address it listens on; with port 0 asked for, the port it got. */
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicInfo[];
}

export class FaultProxy implements ConnectionOwner {
  enabled = false;
  /** In the order they were added; a link applies its direction's toxics in this order. */
  private readonly toxics: Toxic[] = [];
  private server: net.Server | undefined;
  private readonly connections = new Set<Connection>();
  /** Accepted clients whose upstream connection is still being opened. */
  private readonly dialing = new Map<net.Socket, net.Socket>();

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
  ) {}

  info(): ProxyInfo {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxicList().map((toxic) => toxic.info()),
    };
  }

  /** Upstream toxics first, then downstream ones, as Toxiproxy lists them. */
  toxicList(): Toxic[] {
    return [
      ...this.toxics.filter((toxic) => toxic.stream === 'upstream'),
      ...this.toxics.filter((toxic) => toxic.stream === 'downstream'),
    ];
  }

  /** Open connections right now (for tests and the drill's report). */
  get connectionCount(): number {
    return this.connections.size;
  }

  findToxic(name: string): Toxic {
    const toxic = this.toxics.find((t) => t.name === name);
    if (toxic === undefined) throw new FaultProxyError('toxic_not_found');
    return toxic;
  }

  addToxic(toxic: Toxic): void {
    if (this.toxics.some((t) => t.name === toxic.name)) throw new FaultProxyError('toxic_exists');
    this.toxics.push(toxic);
    for (const connection of this.connections) connection.link(toxic.stream).addToxic(toxic);
  }

  /** Applies a control body ({attributes, toxicity}) to a toxic and to every open connection. */
  updateToxic(name: string, input: unknown): Toxic {
    const toxic = this.findToxic(name);
    toxic.update(input);
    for (const connection of this.connections) connection.link(toxic.stream).updateToxic(toxic);
    return toxic;
  }

  removeToxic(name: string): void {
    const toxic = this.findToxic(name);
    this.toxics.splice(this.toxics.indexOf(toxic), 1);
    for (const connection of [...this.connections]) connection.link(toxic.stream).removeToxic(toxic);
  }

  resetToxics(): void {
    for (const toxic of this.toxicList()) this.removeToxic(toxic.name);
  }

  /** Starts listening; an already enabled proxy is left as it is. */
  async start(): Promise<void> {
    if (this.enabled) return;
    const address = listenAddress(this.listen);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new FaultProxyError('listen_failed', `listen tcp ${this.listen}: ${error.message}`, { cause: error })),
      );
      server.listen({ host: address.host === '' ? undefined : address.host, port: address.port }, () => resolve());
    });
    server.on('error', () => {});
    const bound = server.address() as net.AddressInfo;
    this.listen = formatHostPort(bound.address, bound.port);
    this.server = server;
    this.enabled = true;
  }

  /** Stops listening (connecting is refused) and closes every connection, as Toxiproxy's stop(). */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server!;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const [client, upstream] of this.dialing) {
      client.destroy();
      upstream.destroy();
    }
    this.dialing.clear();
    for (const connection of [...this.connections]) connection.close();
    await closed;
  }

  /** Toxiproxy's Differs(): another listen address (after resolving its host) or another upstream. */
  async differs(listen: string, upstream: string): Promise<boolean> {
    if (upstream !== this.upstream) return true;
    return (await resolvedListen(listen)) !== (await resolvedListen(this.listen));
  }

  connectionClosed(connection: Connection): void {
    this.connections.delete(connection);
  }

  private accept(client: net.Socket): void {
    client.on('error', () => {});
    const target = parseHostPort(this.upstream);
    if (!this.enabled || target === undefined) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    // The client is paused (pauseOnConnect) until the upstream answers, so none of its bytes is lost.
    const upstream = net.connect({
      host: target.host === '' ? 'localhost' : target.host,
      port: target.port,
      allowHalfOpen: true,
    });
    upstream.setNoDelay(true);
    this.dialing.set(client, upstream);
    const failed = () => {
      // Toxiproxy closes the client when the upstream cannot be reached.
      this.dialing.delete(client);
      upstream.destroy();
      client.destroy();
    };
    upstream.once('error', failed);
    client.once('close', () => {
      if (this.dialing.has(client)) failed();
    });
    upstream.once('connect', () => {
      upstream.off('error', failed);
      this.dialing.delete(client);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      this.connections.add(new Connection(this, client, upstream, this.toxics));
    });
  }
}

/** `host:port` to listen on; '' (Toxiproxy: every interface, any port) is `:0`. */
function listenAddress(listen: string): HostPort {
  if (listen === '') return { host: '', port: 0 };
  const address = parseHostPort(listen);
  if (address === undefined)
    throw new FaultProxyError('listen_failed', `listen tcp ${listen}: not a host:port address`);
  return address;
}

async function resolvedListen(listen: string): Promise<string> {
  const address = listenAddress(listen);
  if (address.host === '' || net.isIP(address.host) !== 0) return formatHostPort(address.host, address.port);
  try {
    const resolved = await lookup(address.host);
    return formatHostPort(resolved.address, address.port);
  } catch (error) {
    throw new FaultProxyError('listen_failed', `listen tcp ${listen}: ${(error as Error).message}`, { cause: error });
  }
}
