/**
 * HTTP/2 from clients (negotiated by ALPN on TLS listeners) through node:http2, feeding the same
 * exchange and upstream engine as HTTP/1.1. Each stream becomes an HTTP/1.1 request upstream; a body
 * of unknown length is re-framed as chunked.
 */

import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import * as http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { ErrorResponse } from '../diagnose/index.js';
import { admitRequest, bodyTooLarge, viaHopsIn } from './admission.js';
import type { ProxyContext, TrackedConnection } from './context.js';
import { Dechunker } from './dechunk.js';
import type { Downstream } from './downstream.js';
import { Exchange } from './exchange.js';
import { type ClientFacts, forwardedNode, forwardingLines } from './forward-head.js';
import { generateRequestId, isSaneRequestId } from './request-id.js';
import { forwardedTarget } from './runtime.js';

/** Fields HTTP/2 forbids or that this hop rebuilds (RFC 9113 §8.2.2). */
const SKIP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-request-id',
  'http2-settings',
]);
const SKIP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'x-request-id',
]);

export function serveHttp2Session(session: ServerHttp2Session, ctx: ProxyContext): void {
  const socket = session.socket as Socket;
  const raw = socket.remoteAddress ?? '';
  const address = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
  const tracked: TrackedConnection & { streams: number } = {
    streams: 0,
    get busy() {
      return this.streams > 0;
    },
    drain: () => session.close(),
    destroy: () => session.destroy(),
  };
  ctx.connections.add(tracked);
  session.on('close', () => ctx.connections.delete(tracked));
  session.on('error', () => {
    // The session's streams see the error; 'close' follows.
  });
  session.on('stream', (stream, headers) => {
    const rt = ctx.runtime;
    const client: ClientFacts = {
      clientAddress: address,
      forwardedFor: forwardedNode(address),
      trusted: rt.isTrusted(address),
      proto: 'https',
      forwardingCache: { host: '', lines: '' },
    };
    tracked.streams++;
    stream.once('close', () => tracked.streams--);
    new H2Downstream(stream, headers, client, ctx).begin();
  });
}

class H2Downstream implements Downstream {
  readonly httpMinor = 1;
  private readonly ex: Exchange;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    readonly client: ClientFacts,
    private readonly ctx: ProxyContext,
  ) {
    this.ex = new Exchange(this, ctx.clock, ctx.observer);
  }

  begin(): void {
    const rt = this.ctx.runtime;
    const h = this.headers;
    const ex = this.ex;
    ex.reset(rt);
    ex.method = String(h[':method'] ?? 'GET');
    ex.path = String(h[':path'] ?? '/');
    ex.host = String(h[':authority'] ?? h.host ?? '');
    const incoming = h[rt.requestIdHeader];
    const incomingId = typeof incoming === 'string' ? incoming : '';
    ex.requestId = isSaneRequestId(incomingId) ? incomingId : generateRequestId();
    const stream = this.stream;
    stream.on('error', () => undefined);
    stream.once('close', () => {
      if (ex.active) ex.clientAborted();
    });
    const length = typeof h['content-length'] === 'string' ? Number(h['content-length']) : -1;
    let hops = 0;
    for (const value of Array.isArray(h.via) ? h.via : h.via === undefined ? [] : [h.via])
      hops += viaHopsIn(value, rt.pseudonym);
    const route = admitRequest(ex, rt, hops, length, this.client.clientAddress, this.ctx.clock.now);
    if (route === undefined) return;
    const hasBody = !stream.readableEnded && !(stream as unknown as { endAfterHeaders: boolean }).endAfterHeaders;
    const chunked = hasBody && !(length >= 0);
    ex.target = forwardedTarget(route, ex.path);
    ex.requestHead = this.requestHead(route.requestEdits.drop, route.requestEdits.append, chunked);
    if (hasBody) {
      ex.setStreamedBody();
      stream.on('data', (chunk: Buffer) => {
        ex.streamedBytes += chunk.length;
        if (rt.maxBodyBytes > 0 && ex.streamedBytes > rt.maxBodyBytes) {
          stream.pause();
          if (!ex.failRequest(bodyTooLarge())) this.abort();
          return;
        }
        ex.forwardBody(chunked ? frameChunk(chunk) : chunk);
      });
      stream.once('end', () => {
        if (chunked) ex.forwardBody(LAST_CHUNK);
        ex.endRequestBody();
      });
    }
    ex.start(route);
  }

  private requestHead(drop: ReadonlySet<string> | null, append: string, chunked: boolean): string {
    const h = this.headers;
    const ex = this.ex;
    let out = `${ex.method} ${ex.target} HTTP/1.1\r\nHost: ${ex.host}\r\n`;
    for (const [name, value] of Object.entries(h)) {
      if (name.charCodeAt(0) === 0x3a /* : */ || SKIP_REQUEST.has(name) || value === undefined) continue;
      if (name === this.ctx.runtime.requestIdHeader) continue;
      if (drop?.has(name)) continue;
      // RFC 9113 §8.2.3: cookie crumbs are joined with "; " for HTTP/1.1.
      if (Array.isArray(value))
        out += name === 'cookie' ? `cookie: ${value.join('; ')}\r\n` : value.map((v) => `${name}: ${v}\r\n`).join('');
      else out += `${name}: ${value}\r\n`;
    }
    const one = (name: string) => (typeof h[name] === 'string' ? (h[name] as string) : '');
    out += this.client.trusted
      ? forwardingLines(
          this.client,
          ex.host,
          one('x-forwarded-for'),
          one('x-forwarded-proto'),
          one('x-forwarded-host'),
          one('forwarded'),
        )
      : forwardingLines(this.client, ex.host, '', '', '', '');
    out += `Via: 2.0 ${this.ctx.runtime.pseudonym}\r\n${this.ctx.runtime.requestIdHeaderName}: ${ex.requestId}\r\n`;
    if (chunked) out += 'Transfer-Encoding: chunked\r\n';
    return `${out}${append}\r\n`;
  }

  requestAccept(): string {
    const accept = this.headers.accept;
    return typeof accept === 'string' ? accept : '';
  }

  keepsAlive(): boolean {
    return true;
  }

  writeInterim(ex: Exchange): void {
    if (ex.res.statusCode === 103) this.stream.additionalHeaders({ ':status': 103 });
  }

  writeResponse(ex: Exchange, body: Buffer | null, start: number, end: number): boolean {
    const res = ex.res;
    const headers: OutgoingHttpHeaders = { ':status': res.statusCode };
    const drop = ex.route!.responseEdits.drop;
    for (let i = 0; i < res.count; i++) {
      const name = res.names[i]!.toLowerCase();
      if (SKIP_RESPONSE.has(name) || res.isHopByHop(i) || drop?.has(name) || name === ex.rt.requestIdHeader) continue;
      const prior = headers[name];
      headers[name] =
        prior === undefined
          ? res.values[i]!
          : Array.isArray(prior)
            ? [...prior, res.values[i]!]
            : [String(prior), res.values[i]!];
    }
    headers.via = ex.rt.viaEntry11;
    headers[ex.rt.requestIdHeader] = ex.requestId;
    for (const [name, value] of ex.route!.responseEdits.pairs) headers[name.toLowerCase()] = value;
    if (this.stream.destroyed) return true;
    this.stream.respond(headers, { endStream: false });
    this.stream.on('drain', () => ex.onDownstreamDrain());
    // HTTP/2 frames the body itself: chunked framing from the upstream is taken off.
    this.dechunker = res.chunked ? new Dechunker() : null;
    return body === null || end === start ? true : this.writeBody(body, start, end);
  }

  private dechunker: Dechunker | null = null;
  private writable = true;

  private readonly emitData = (buf: Buffer, start: number, end: number): void => {
    if (end > start && !this.stream.write(buf.subarray(start, end))) this.writable = false;
  };

  writeBody(buf: Buffer, start: number, end: number): boolean {
    if (this.stream.destroyed) return true;
    if (this.dechunker === null) return this.stream.write(buf.subarray(start, end));
    this.writable = true;
    this.dechunker.feed(buf, start, end, this.emitData);
    return this.writable;
  }

  finish(): void {
    if (!this.stream.destroyed) this.stream.end();
  }

  writeError(ex: Exchange, response: ErrorResponse): void {
    if (this.stream.destroyed) return;
    const headers: OutgoingHttpHeaders = { ':status': response.status };
    for (const [name, value] of response.headers) headers[name.toLowerCase()] = value;
    this.stream.respond(headers);
    this.stream.end(ex.method === 'HEAD' ? undefined : response.body);
  }

  abort(): void {
    this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  pauseBody(): void {
    this.stream.pause();
  }

  resumeBody(): void {
    this.stream.resume();
  }

  tunnel(_ex: Exchange, upstream: Socket): void {
    // Never reached: HTTP/2 requests are not sent upstream as upgrades.
    upstream.destroy();
    this.abort();
  }
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

function frameChunk(chunk: Buffer): Buffer {
  const size = `${chunk.length.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(size.length + chunk.length + 2);
  out.write(size, 0, 'latin1');
  chunk.copy(out, size.length);
  out.write('\r\n', size.length + chunk.length, 'latin1');
  return out;
}
