import { lstat, rename, unlink } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { GatewayError } from '../../errors.js';
import type { StartedUpstream, UpstreamBehaviour } from './types.js';

/** A test upstream that could not be started (python3 missing, port trouble, ...). */
export class UpstreamStartError extends GatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GW_DRILL_UPSTREAM_START', message, options);
  }
}

/**
 * Owns everything one upstream opens: its sockets and timers, and the counters a test reads.
 * `closeAll()` destroys every socket and waits for each to report 'close', so that once it resolves
 * no handle of this upstream is left in the event loop.
 */
export class UpstreamTracker {
  connections = 0;
  requests = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closing = false;

  /** Counts an accepted connection and takes ownership of its socket. */
  accept(socket: Socket): void {
    this.connections++;
    this.own(socket);
  }

  /** Takes ownership of a socket without counting it (client sockets, TLS wrappers). */
  own(socket: Socket): void {
    if (this.sockets.has(socket)) return;
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // Peers of a misbehaving server reset and abort all the time; that is the point, not a fault.
    socket.on('error', ignoreSocketError);
  }

  countRequest(): void {
    this.requests++;
  }

  setTimeout(callback: () => void, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, delayMs);
    this.timers.add(timer);
    return timer;
  }

  setInterval(callback: () => void, intervalMs: number): NodeJS.Timeout {
    const timer = setInterval(callback, intervalMs);
    this.timers.add(timer);
    return timer;
  }

  clearTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  async closeAll(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed: Promise<void>[] = [];
    for (const socket of this.sockets) {
      if (!socket.closed) closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.destroy();
    }
    await Promise.all(closed);
  }
}

function ignoreSocketError(): void {}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly socketPath: string | undefined;
}

/** Listens on 127.0.0.1 port 0, or on `unixPath` (replacing a stale socket file there). */
export async function listen(server: Server, unixPath: string | undefined): Promise<ListenAddress> {
  if (unixPath !== undefined) await removeStaleSocket(unixPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const listening = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (unixPath !== undefined) server.listen(unixPath, listening);
    else server.listen(0, '127.0.0.1', listening);
  });
  if (unixPath !== undefined) return { host: '', port: 0, socketPath: unixPath };
  const address = server.address();
  if (address === null || typeof address === 'string') throw new UpstreamStartError('server has no TCP address');
  return { host: address.address, port: address.port, socketPath: undefined };
}

/** Only a socket file is removed: a typo in a test must never delete a regular file. */
export async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stat === undefined) return;
  if (!stat.isSocket()) throw new UpstreamStartError(`${path} exists and is not a unix socket`);
  await unlink(path);
}

/**
 * Leaves a unix socket file at `path` that nobody listens on, so a connect gets ECONNREFUSED (a
 * missing path gives ENOENT instead). libuv unlinks a pipe's bind path on close, so the socket is
 * bound under a temporary name, renamed into place, then closed: the unlink misses the new name.
 */
export async function leaveRefusingSocket(server: Server, path: string): Promise<void> {
  const temporary = `${path}.${process.pid}.binding`;
  await listen(server, temporary);
  await rename(temporary, path);
  await closeServer(server);
}

export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function urlOf(scheme: 'http' | 'https', address: ListenAddress): string {
  if (address.socketPath !== undefined) return `unix:${address.socketPath}`;
  return `${scheme}://${address.host}:${address.port}`;
}

export class RunningUpstream implements StartedUpstream {
  readonly behaviour: UpstreamBehaviour;
  readonly host: string;
  readonly port: number;
  readonly socketPath: string | undefined;
  readonly url: string;
  private readonly tracker: UpstreamTracker;
  private readonly stop: () => Promise<void>;
  private closed: Promise<void> | undefined;

  constructor(
    behaviour: UpstreamBehaviour,
    address: ListenAddress,
    url: string,
    tracker: UpstreamTracker,
    stop: () => Promise<void>,
  ) {
    this.behaviour = behaviour;
    this.host = address.host;
    this.port = address.port;
    this.socketPath = address.socketPath;
    this.url = url;
    this.tracker = tracker;
    this.stop = stop;
  }

  get connections(): number {
    return this.tracker.connections;
  }

  get requests(): number {
    return this.tracker.requests;
  }

  close(): Promise<void> {
    this.closed ??= this.stop();
    return this.closed;
  }
}
