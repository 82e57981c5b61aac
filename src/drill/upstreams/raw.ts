import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { UpstreamTracker } from './lifecycle.js';
import { patternPiece } from './pattern.js';
import type { UpstreamOptions } from './types.js';

/** Behaviours written byte by byte on a plain TCP server, where node:http would refuse to misbehave. */
export type RawBehaviour =
  | 'hang'
  | 'reset'
  | 'close'
  | 'garbage'
  | 'huge_head'
  | 'cut_length'
  | 'cut_chunked'
  | 'slow_drip';

interface AnswerContext {
  readonly options: UpstreamOptions;
  readonly tracker: UpstreamTracker;
  readonly unix: boolean;
}

/** What each behaviour does once a request head has arrived. */
type Answer = (socket: net.Socket, context: AnswerContext) => void;

export const DEFAULT_HEAD_BYTES = 64 * 1024;
export const DEFAULT_DRIP_MS = 200;
export const DEFAULT_DRIP_BYTES = 100;
export const CUT_LENGTH_DECLARED = 100_000;
export const CUT_LENGTH_SENT = 1000;
export const CUT_CHUNKED_CHUNKS = 3;
export const CUT_CHUNKED_CHUNK_BYTES = 100;
export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.2\r\n';

const ANSWERS: Record<RawBehaviour, Answer> = {
  hang: () => {},
  reset: resetConnection,
  // end() sends FIN; the request bytes keep being read, so the kernel never turns the close into RST.
  close: (socket) => socket.end(),
  garbage: (socket, { options }) => socket.end(garbage(options.garbage ?? 'ssh')),
  huge_head: (socket, { options }) => socket.end(hugeHead(options.headBytes ?? DEFAULT_HEAD_BYTES)),
  cut_length: (socket) =>
    socket.end(
      Buffer.concat([
        Buffer.from(
          `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${CUT_LENGTH_DECLARED}\r\n\r\n`,
        ),
        patternPiece(0, CUT_LENGTH_SENT),
      ]),
    ),
  cut_chunked: (socket) => socket.end(cutChunked()),
  slow_drip: slowDrip,
};

export function createRawServer(
  behaviour: RawBehaviour,
  tracker: UpstreamTracker,
  options: UpstreamOptions,
): net.Server {
  const answer = ANSWERS[behaviour];
  const context: AnswerContext = { options, tracker, unix: options.unixPath !== undefined };
  return net.createServer((socket) => {
    tracker.accept(socket);
    onRequestHead(socket, () => {
      tracker.countRequest();
      answer(socket, context);
    });
  });
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** A client that never ends its head is answered anyway after this many bytes. */
const MAX_HEAD_SCAN_BYTES = 64 * 1024;

/**
 * Calls `callback` once the first request head (RFC 9112 §2.1: up to the empty line) has arrived.
 * Everything after it is read and dropped: a socket closed with unread bytes sends RST, not FIN.
 */
export function onRequestHead(socket: net.Socket, callback: () => void): void {
  let tail: Buffer = Buffer.alloc(0);
  let scannedBytes = 0;
  let seen = false;
  socket.on('data', (chunk: Buffer) => {
    if (seen) return;
    const window = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    scannedBytes += chunk.length;
    if (window.includes(HEAD_END) || scannedBytes >= MAX_HEAD_SCAN_BYTES) {
      seen = true;
      callback();
      return;
    }
    tail = window.subarray(Math.max(0, window.length - (HEAD_END.length - 1)));
  });
}

function resetConnection(socket: net.Socket, { unix }: AnswerContext): void {
  // RST exists only in TCP; a unix socket can only be closed (the peer reads EOF).
  if (unix) socket.destroy();
  else socket.resetAndDestroy();
}

function garbage(kind: 'ssh' | 'binary'): Buffer {
  if (kind === 'ssh') return Buffer.from(SSH_BANNER);
  const bytes = randomBytes(256);
  // 0xff can start neither an HTTP status line nor a TLS record.
  bytes[0] = 0xff;
  return bytes;
}

/** A 200 head of at least `headBytes` bytes, made of ~1 KiB filler fields. */
export function hugeHead(headBytes: number): Buffer {
  const statusLine = 'HTTP/1.1 200 OK\r\n';
  const trailer = 'Content-Length: 2\r\nConnection: close\r\n\r\n';
  const lines = [statusLine];
  let remaining = headBytes - statusLine.length - trailer.length;
  for (let index = 0; remaining > 0; index++) {
    const name = `X-Filler-${String(index).padStart(5, '0')}: `;
    let lineBytes = Math.min(1024, remaining);
    // Leave room for one more well-formed line rather than a last line too short to hold its name.
    const left = remaining - lineBytes;
    if (left > 0 && left < 64) lineBytes = remaining - 64;
    const valueBytes = Math.max(1, lineBytes - name.length - 2);
    lines.push(`${name}${'x'.repeat(valueBytes)}\r\n`);
    remaining -= name.length + valueBytes + 2;
  }
  lines.push(trailer, 'ok');
  return Buffer.from(lines.join(''), 'latin1');
}

function cutChunked(): Buffer {
  const parts: Buffer[] = [
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n'),
  ];
  for (let index = 0; index < CUT_CHUNKED_CHUNKS; index++) {
    const offset = index * CUT_CHUNKED_CHUNK_BYTES;
    parts.push(
      Buffer.from(`${CUT_CHUNKED_CHUNK_BYTES.toString(16)}\r\n`),
      patternPiece(offset, CUT_CHUNKED_CHUNK_BYTES),
      Buffer.from('\r\n'),
    );
  }
  // RFC 9112 §7.1: a chunked body ends with a zero-size last-chunk; it is never sent.
  return Buffer.concat(parts);
}

function slowDrip(socket: net.Socket, { options, tracker }: AnswerContext): void {
  const totalBytes = options.dripBytes ?? DEFAULT_DRIP_BYTES;
  const dripMs = options.dripMs ?? DEFAULT_DRIP_MS;
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${totalBytes}\r\n\r\n`);
  let sent = 0;
  const timer = tracker.setInterval(() => {
    socket.write(patternPiece(sent, 1));
    sent++;
    if (sent >= totalBytes) {
      tracker.clearTimer(timer);
      socket.end();
    }
  }, dripMs);
  socket.once('close', () => tracker.clearTimer(timer));
}
