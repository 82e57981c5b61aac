/** Raw-socket clients for checking misbehaving upstreams from the outside. */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { StartedUpstream } from '../../src/drill/upstreams.js';

export type Ending = 'end' | 'error' | 'timeout';

export interface Exchange {
  /** Everything received. */
  readonly bytes: Buffer;
  /** How the exchange stopped: the peer ended, an error, or our own wait ran out. */
  readonly ending: Ending;
  /** The error code when `ending` is 'error'. */
  readonly code: string | undefined;
  /** Milliseconds from connect to the first byte, if one came. */
  readonly firstByteMs: number | undefined;
}

export function connectTo(upstream: StartedUpstream): net.Socket {
  return upstream.socketPath === undefined
    ? net.connect(upstream.port, upstream.host)
    : net.connect({ path: upstream.socketPath });
}

/**
 * Sends `request` on a fresh connection and collects the answer until the peer ends or fails, or
 * until `waitMs` passes; the socket is always destroyed before this resolves.
 */
export function exchange(
  upstream: StartedUpstream,
  request: string | Buffer,
  waitMs = 5000,
  socket: net.Socket = connectTo(upstream),
): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let connectedAt = 0;
    let firstByteMs: number | undefined;
    let settled = false;
    const finish = (ending: Ending, code?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), ending, code, firstByteMs });
    };
    const timer = setTimeout(() => finish('timeout'), waitMs);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      connectedAt = Date.now();
      socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => {
      firstByteMs ??= Date.now() - connectedAt;
      chunks.push(chunk);
    });
    socket.once('end', () => finish('end'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish('error', error.code));
  });
}

export const GET_HEALTH = 'GET /health HTTP/1.1\r\nHost: upstream\r\n\r\n';

/** Splits a raw answer at the end of its head. */
export function splitHead(bytes: Buffer): { head: string; body: Buffer } {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return { head: bytes.toString('latin1'), body: Buffer.alloc(0) };
  return { head: bytes.subarray(0, end + 4).toString('latin1'), body: bytes.subarray(end + 4) };
}

/** Resolves with the error code of a TLS connect that must fail, or 'connected'. */
export function tlsConnectOutcome(options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect(options);
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code ?? 'unknown');
    });
  });
}

/** Whether a TCP connect completes, fails, or is still pending after `waitMs`. */
export function connectOutcome(target: net.NetConnectOpts, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    const finish = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('pending'), waitMs);
    socket.once('connect', () => finish('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? 'unknown'));
  });
}
