import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { KeyPair } from './fixtures.js';
import type { UpstreamTracker } from './lifecycle.js';
import { MAX_PATTERN_PIECE, patternPiece } from './pattern.js';

/** A well-behaved backend: what every misbehaving one is compared against. */
export interface OkAppOptions {
  name: string | undefined;
  keepAliveTimeoutS: number | undefined;
}

const MAX_BODY_BYTES = 1024 ** 3;
const MAX_SLOW_MS = 30_000;
const CHUNK_PIECE_BYTES = 4096;
const BYTES_PIECE_BYTES = 16 * 1024;
/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

interface RequestBody {
  bytes: number;
  sha256: string;
}

type Route = (request: http.IncomingMessage, response: http.ServerResponse, context: RouteContext) => void;

interface RouteContext {
  readonly match: RegExpExecArray;
  readonly body: RequestBody;
  readonly options: OkAppOptions;
  readonly tracker: UpstreamTracker;
}

const ROUTES: ReadonlyArray<readonly [RegExp, Route]> = [
  [/^\/(?:health)?$/, (_request, response) => sendText(response, 200, 'ok')],
  [/^\/echo(?:\/.*)?$/, echo],
  [/^\/upload$/, (_request, response, { body }) => sendJson(response, 200, body)],
  [/^\/bytes\/(\d+)$/, (_request, response, { match }) => sendPattern(response, Number(match[1]), false)],
  [/^\/chunked\/(\d+)$/, (_request, response, { match }) => sendPattern(response, Number(match[1]), true)],
  [/^\/status\/(\d{3})$/, status],
  [/^\/slow\/(\d+)$/, slow],
];

export function createOkServer(tracker: UpstreamTracker, options: OkAppOptions, tls?: KeyPair): http.Server {
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void =>
    handleRequest(tracker, options, request, response);
  const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler);
  if (options.keepAliveTimeoutS !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutS * 1000;
  server.on('connection', (socket) => tracker.accept(socket));
  // A TLS socket wraps the accepted TCP socket; owning both makes close() wait for either to go.
  if (tls !== undefined) server.on('secureConnection', (socket) => tracker.own(socket));
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) =>
    upgradeWebSocket(tracker, options, request, socket, head),
  );
  return server;
}

function handleRequest(
  tracker: UpstreamTracker,
  options: OkAppOptions,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): void {
  tracker.countRequest();
  if (options.name !== undefined) response.setHeader('X-Server', options.name);
  // Node sends Keep-Alive itself from server.keepAliveTimeout; setting it makes the promise explicit.
  if (options.keepAliveTimeoutS !== undefined) response.setHeader('Keep-Alive', `timeout=${options.keepAliveTimeoutS}`);
  // Every body is read whole before answering, so upload tests see exactly what arrived.
  const hash = createHash('sha256');
  let bytes = 0;
  request.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  request.on('error', () => response.destroy());
  request.on('end', () => {
    const body = { bytes, sha256: hash.digest('hex') };
    const path = pathOf(request.url);
    for (const [pattern, route] of ROUTES) {
      const match = pattern.exec(path);
      if (match !== null) {
        route(request, response, { match, body, options, tracker });
        return;
      }
    }
    sendText(response, 404, 'not found');
  });
}

function echo(request: http.IncomingMessage, response: http.ServerResponse, { body, options }: RouteContext): void {
  sendJson(response, 200, {
    server: options.name ?? null,
    method: request.method,
    url: request.url,
    httpVersion: request.httpVersion,
    headers: request.headers,
    rawHeaders: request.rawHeaders,
    body,
  });
}

function status(_request: http.IncomingMessage, response: http.ServerResponse, { match }: RouteContext): void {
  const code = Number(match[1]);
  if (code < 200 || code > 599) {
    sendText(response, 400, `status ${code} is not a final status`);
    return;
  }
  // RFC 9110 §6.4.1: 204 and 304 carry no content.
  if (code === 204 || code === 304) {
    response.writeHead(code).end();
    return;
  }
  sendText(response, code, `status ${code}`);
}

function slow(_request: http.IncomingMessage, response: http.ServerResponse, context: RouteContext): void {
  const delayMs = Math.min(Number(context.match[1]), MAX_SLOW_MS);
  const timer = context.tracker.setTimeout(() => sendText(response, 200, `slow ${delayMs}`), delayMs);
  response.once('close', () => context.tracker.clearTimer(timer));
}

/** Streams `total` pattern bytes with backpressure, framed by Content-Length or as chunks. */
function sendPattern(response: http.ServerResponse, total: number, chunked: boolean): void {
  if (total > MAX_BODY_BYTES) {
    sendText(response, 400, `at most ${MAX_BODY_BYTES} bytes`);
    return;
  }
  const pieceBytes = chunked ? CHUNK_PIECE_BYTES : Math.min(BYTES_PIECE_BYTES, MAX_PATTERN_PIECE);
  const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/octet-stream' };
  if (!chunked) headers['Content-Length'] = total;
  response.writeHead(200, headers);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      if (response.destroyed) return;
      const length = Math.min(pieceBytes, total - sent);
      const piece = patternPiece(sent, length);
      sent += length;
      // Each write of a chunked response becomes one chunk on the wire.
      if (!response.write(piece)) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

/** RFC 6455 §4.2.2 server handshake, then an echo of raw bytes (frames are not decoded). */
function upgradeWebSocket(
  tracker: UpstreamTracker,
  options: OkAppOptions,
  request: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  tracker.countRequest();
  const key = request.headers['sec-websocket-key'];
  const upgrade = request.headers.upgrade?.toLowerCase();
  if (pathOf(request.url) !== '/ws' || upgrade !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
  const server = options.name === undefined ? '' : `X-Server: ${options.name}\r\n`;
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${server}\r\n`,
  );
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
}

function sendText(response: http.ServerResponse, statusCode: number, text: string): void {
  response.writeHead(statusCode, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendJson(response: http.ServerResponse, statusCode: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(statusCode, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
