/** Real sockets around a fault proxy: small upstreams, a started server, and a byte collector. */
import * as net from 'node:net';
import type { TestContext } from 'node:test';
import {
  FaultProxyServer,
  type FaultProxyServerOptions,
  parseHostPort,
  type ToxicOptions,
} from '../../../src/drill/faults/index.js';

export async function startFaults(t: TestContext, options: FaultProxyServerOptions = {}): Promise<FaultProxyServer> {
  const server = await FaultProxyServer.start(options);
  t.after(() => server.close());
  return server;
}

export interface TcpUpstream {
  readonly port: number;
  /** Bytes received, per connection, in order of connection. */
  readonly received: Buffer[][];
  readonly connections: number;
}

/**
 * A raw TCP upstream on 127.0.0.1:0. `onConnection` decides what it does; by default it echoes
 * what it reads and ends when the client ends.
 */
export async function startTcpUpstream(
  t: TestContext,
  onConnection: (socket: net.Socket) => void = (socket) => socket.pipe(socket),
): Promise<TcpUpstream> {
  const sockets = new Set<net.Socket>();
  const received: Buffer[][] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const chunks: Buffer[] = [];
    received.push(chunks);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    get connections() {
      return received.length;
    },
  };
}

/** Adds a proxy on 127.0.0.1:0 to `upstreamPort` with the given toxics; returns its port. */
export async function proxyTo(
  server: FaultProxyServer,
  upstreamPort: number,
  toxics: readonly ToxicOptions[] = [],
  name = 'service',
): Promise<number> {
  const info = await server.addProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` });
  for (const toxic of toxics) server.addToxic(name, toxic);
  return parseHostPort(info.listen)!.port;
}

export type Ending = 'end' | 'error' | 'timeout';

export interface Received {
  bytes: Buffer;
  /** Each 'data' event's size, in order. */
  chunkSizes: number[];
  ending: Ending;
  /** The error code when ending is 'error' (ECONNRESET...). */
  code: string | undefined;
  /** Milliseconds from the write of `send` to the first byte and to the ending. */
  firstByteMs: number | undefined;
  endMs: number;
}

export interface Exchange {
  socket: net.Socket;
  /** Resolves when the peer ends or fails, or after `waitMs`. The socket is destroyed by then. */
  done: Promise<Received>;
}

/** Connects to 127.0.0.1:port, writes `send` once connected, and collects everything that comes back. */
export function exchange(t: TestContext, port: number, send: Buffer | string | undefined, waitMs = 5000): Exchange {
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  const done = new Promise<Received>((resolve) => {
    const chunks: Buffer[] = [];
    let startedAt = performance.now();
    let firstByteMs: number | undefined;
    let settled = false;
    const finish = (ending: Ending, code?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        bytes: Buffer.concat(chunks),
        chunkSizes: chunks.map((chunk) => chunk.length),
        ending,
        code,
        firstByteMs,
        endMs: performance.now() - startedAt,
      });
    };
    const timer = setTimeout(() => finish('timeout'), waitMs);
    socket.on('connect', () => {
      startedAt = performance.now();
      if (send !== undefined) socket.write(send);
    });
    socket.on('data', (chunk: Buffer) => {
      firstByteMs ??= performance.now() - startedAt;
      chunks.push(chunk);
    });
    socket.on('end', () => finish('end'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish('error', error.code));
    socket.on('close', () => finish('end'));
  });
  return { socket, done };
}

/** Resolves once `predicate` holds, checking every few milliseconds, or rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Outcome of a bare connect: 'connected' or the error code (ECONNREFUSED...). */
export function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}
