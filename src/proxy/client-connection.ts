/**
 * A client's HTTP/1.1 connection on Gatewise's own engine: reads request heads (pipelined requests
 * are answered in order), streams request bodies into the exchange, writes responses with one write
 * per head, and owns the client-side deadlines (idle, headers, request).
 */
import type { Socket } from 'node:net';
import { type ErrorResponse, failureOf } from '../diagnose/index.js';
import { checkPartialHead, Field, findHeadEnd, HttpParseError, ParsedHead, parseRequestHead } from '../http1/index.js';
import { admitRequest, bodyTooLarge, viaHopsIn } from './admission.js';
import type { Sweepable } from './clock.js';
import type { ProxyContext, TrackedConnection } from './context.js';
import type { Downstream } from './downstream.js';
import { Exchange } from './exchange.js';
import {
  buildRequestHead,
  buildResponseHead,
  type ClientFacts,
  forwardedNode,
  type RequestHeadParts,
  type ResponseHeadParts,
} from './forward-head.js';
import { generateRequestId, isSaneRequestId } from './request-id.js';
import { forwardedTarget, type Runtime } from './runtime.js';
import { Tunnel } from './tunnel.js';

enum State {
  ReadHead = 0,
  ReadBody = 1,
  /** Request read; waiting for the response to finish. Pipelined bytes wait in `pending`. */
  Respond = 2,
  Tunnel = 3,
  Closed = 4,
}

enum ClientDeadline {
  None = 0,
  Idle = 1,
  Headers = 2,
  Request = 3,
}

/** Responses up to this size (head plus body) are copied into one buffer and written once. */
const SINGLE_WRITE_BYTES = 16384;

export class ClientConnection implements Downstream, Sweepable, TrackedConnection {
  client: ClientFacts;
  httpMinor = 1;
  private readonly head = new ParsedHead();
  private readonly ex: Exchange;
  private state = State.ReadHead;
  private pending: Buffer | null = null;
  private scanFrom = 0;
  private processing = false;
  private requests = 0;
  private closeAfter = false;
  private deadline = 0;
  private deadlineKind = ClientDeadline.None;
  private factsGeneration = -1;
  private readonly remoteAddress: string;
  /** Reused for every request's upstream head (no object per request). */
  private readonly requestParts: RequestHeadParts = {
    method: '',
    target: '',
    host: '',
    requestId: '',
    requestIdHeader: '',
    requestIdLower: '',
    via: '',
    chunked: false,
    upgrade: false,
    version: 'HTTP/1.1',
  };
  private readonly responseParts: ResponseHeadParts = {
    requestId: '',
    requestIdHeader: '',
    requestIdLower: '',
    via: '',
    chunked: false,
    upgrade: false,
    connection: '',
  };

  constructor(
    readonly socket: Socket,
    private readonly ctx: ProxyContext,
    private readonly proto: 'http' | 'https',
  ) {
    const raw = socket.remoteAddress ?? '';
    this.remoteAddress = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
    this.client = this.clientFacts(ctx.runtime);
    this.ex = new Exchange(this, ctx.clock, ctx.observer);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.once('close', this.onClose);
    ctx.connections.add(this);
    ctx.clock.add(this);
    this.setDeadline(ClientDeadline.Headers, ctx.runtime.headersTimeoutMs);
  }

  get busy(): boolean {
    return (
      this.state === State.ReadBody ||
      this.state === State.Respond ||
      this.state === State.Tunnel ||
      (this.state === State.ReadHead && this.pending !== null)
    );
  }

  private clientFacts(rt: Runtime): ClientFacts {
    this.factsGeneration = rt.generation;
    return {
      clientAddress: this.remoteAddress,
      forwardedFor: forwardedNode(this.remoteAddress),
      trusted: rt.isTrusted(this.remoteAddress),
      proto: this.proto,
      forwardingCache: { host: '', lines: '' },
    };
  }

  // ---- reading requests ------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === State.Closed || this.state === State.Tunnel) return;
    if (this.state === State.Respond) {
      this.hold(chunk, 0);
      return;
    }
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    this.process(buf, 0);
  };

  /** Keeps bytes of a later pipelined request and stops reading until the current response is done. */
  private hold(buf: Buffer, off: number): void {
    const rest = buf.subarray(off);
    this.pending = this.pending === null ? rest : Buffer.concat([this.pending, rest]);
    this.socket.pause();
  }

  private process(buf: Buffer, off: number): void {
    this.processing = true;
    try {
      while (off < buf.length) {
        if (this.state === State.ReadHead) {
          if (this.deadlineKind === ClientDeadline.Idle)
            this.setDeadline(ClientDeadline.Headers, this.ctx.runtime.headersTimeoutMs);
          const end = findHeadEnd(buf, off, Math.max(off, off + this.scanFrom), buf.length);
          if (end < 0) {
            checkPartialHead(buf, off, buf.length, this.ctx.runtime.requestLimits, true);
            this.pending = off === 0 ? buf : buf.subarray(off);
            this.scanFrom = Math.max(0, this.pending.length - 3);
            return;
          }
          this.scanFrom = 0;
          parseRequestHead(buf, off, end, this.ctx.runtime.requestLimits, this.head);
          off = end;
          this.beginRequest();
        } else if (this.state === State.ReadBody) {
          off = this.ex.requestData(buf, off, buf.length);
          const maxBody = this.ctx.runtime.maxBodyBytes;
          if (maxBody > 0 && this.ex.requestBodyBytes > maxBody) {
            this.bodyTooLarge();
            return;
          }
          if (this.ex.requestComplete) this.requestRead();
        } else if (this.state === State.Respond) {
          this.hold(buf, off);
          return;
        } else {
          return;
        }
      }
    } catch (error) {
      if (error instanceof HttpParseError) this.badRequest(error);
      else throw error;
    } finally {
      this.processing = false;
    }
  }

  private requestRead(): void {
    this.state = State.Respond;
    if (this.deadlineKind === ClientDeadline.Request) this.deadlineKind = ClientDeadline.None;
  }

  private beginRequest(): void {
    const rt = this.ctx.runtime;
    if (rt.generation !== this.factsGeneration) this.client = this.clientFacts(rt);
    const head = this.head;
    const ex = this.ex;
    this.requests++;
    ex.reset(rt);
    this.httpMinor = head.versionMinor;
    ex.method = head.method;
    ex.path = head.target;
    ex.host = head.absoluteAuthority !== '' ? head.absoluteAuthority : head.host;
    ex.requestId = this.incomingRequestId(rt) ?? generateRequestId();
    this.closeAfter =
      head.connectionClose ||
      (head.versionMinor === 0 && !head.connectionKeepAlive) ||
      this.ctx.draining ||
      (rt.maxRequestsPerConnection > 0 && this.requests >= rt.maxRequestsPerConnection);
    ex.setRequestBody(head.chunked, head.contentLength);
    this.state = ex.requestComplete ? State.Respond : State.ReadBody;
    this.setDeadline(ex.requestComplete ? ClientDeadline.None : ClientDeadline.Request, rt.requestTimeoutMs);

    const route = admitRequest(ex, rt, this.viaHops(rt), head.contentLength, this.remoteAddress, this.ctx.clock.now);
    if (route === undefined) return;
    ex.upgrade = head.connectionUpgrade && head.upgrade !== '' && head.versionMinor === 1 && !isH2c(head.upgrade);
    const hashHeader = route.upstream.hashHeader;
    ex.hashKey = hashHeader === '' ? '' : this.headerValue(hashHeader);
    ex.target = forwardedTarget(route, head.target);
    const parts = this.requestParts;
    parts.method = head.method;
    parts.target = ex.target;
    parts.host = ex.host;
    parts.requestId = ex.requestId;
    parts.requestIdHeader = rt.requestIdHeaderName;
    parts.requestIdLower = rt.requestIdLower;
    parts.via = head.versionMinor === 1 ? rt.viaEntry11 : rt.viaEntry10;
    parts.chunked = head.chunked;
    parts.upgrade = ex.upgrade;
    // An HTTP/1.0 client cannot read chunked framing, so its request goes upstream as HTTP/1.0 too
    // and the upstream frames its answer with Content-Length or close.
    parts.version = head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    ex.requestHead = buildRequestHead(head, parts, this.client, route.requestEdits);
    ex.start(route);
  }

  private incomingRequestId(rt: Runtime): string | undefined {
    const value =
      rt.requestIdHeader === 'x-request-id' ? this.fieldValue(Field.XRequestId) : this.headerValue(rt.requestIdHeader);
    return value !== '' && isSaneRequestId(value) ? value : undefined;
  }

  private fieldValue(kind: Field): string {
    const head = this.head;
    for (let i = 0; i < head.count; i++) if (head.kinds[i] === kind) return head.values[i]!;
    return '';
  }

  /** Value of a header by lowercased name (first occurrence), '' when absent. */
  headerValue(lowerName: string): string {
    const head = this.head;
    for (let i = 0; i < head.count; i++) {
      const name = head.names[i]!;
      if (name.length === lowerName.length && name.toLowerCase() === lowerName) return head.values[i]!;
    }
    return '';
  }

  /** How many Via entries already name this gateway. */
  private viaHops(rt: Runtime): number {
    const head = this.head;
    let hops = 0;
    for (let i = 0; i < head.count; i++) {
      if (head.kinds[i] === Field.Via) hops += viaHopsIn(head.values[i]!, rt.pseudonym);
    }
    return hops;
  }

  requestAccept(): string {
    return this.headerValue('accept');
  }

  // ---- writing responses --------------------------------------------------------------------------

  keepsAlive(ex: Exchange): boolean {
    return !this.closeAfter && ex.requestComplete && !this.ctx.draining;
  }

  private connectionField(ex: Exchange, closeDelimited: boolean): '' | 'close' | 'keep-alive' {
    if (closeDelimited || !this.keepsAlive(ex)) {
      this.closeAfter = true;
      return 'close';
    }
    return this.httpMinor === 0 ? 'keep-alive' : '';
  }

  writeInterim(ex: Exchange): void {
    this.socket.write(ex.res.text, 'latin1');
  }

  writeResponse(ex: Exchange, body: Buffer | null, start: number, end: number): boolean {
    const res = ex.res;
    const hasBody = ex.method !== 'HEAD' && res.statusCode !== 204 && res.statusCode !== 304;
    const closeDelimited = hasBody && !res.chunked && res.contentLength < 0;
    const parts = this.responseParts;
    parts.requestId = ex.requestId;
    parts.requestIdHeader = ex.rt.requestIdHeaderName;
    parts.requestIdLower = ex.rt.requestIdLower;
    parts.via = ex.rt.viaEntry11;
    parts.chunked = hasBody && res.chunked;
    parts.upgrade = false;
    parts.connection = this.connectionField(ex, closeDelimited);
    const head = buildResponseHead(res, parts, ex.route!.responseEdits);
    return this.writeHeadAndBody(head, body, start, end);
  }

  private writeHeadAndBody(head: string, body: Buffer | null, start: number, end: number): boolean {
    const socket = this.socket;
    const bodyBytes = body === null ? 0 : end - start;
    if (bodyBytes === 0) return socket.write(head, 'latin1');
    if (head.length + bodyBytes <= SINGLE_WRITE_BYTES) {
      const out = Buffer.allocUnsafe(head.length + bodyBytes);
      out.write(head, 0, 'latin1');
      body!.copy(out, head.length, start, end);
      return socket.write(out);
    }
    socket.cork();
    socket.write(head, 'latin1');
    const ok = socket.write(body!.subarray(start, end));
    socket.uncork();
    return ok;
  }

  writeBody(buf: Buffer, start: number, end: number): boolean {
    return this.socket.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  writeError(ex: Exchange, response: ErrorResponse): void {
    const connection = this.connectionField(ex, false);
    let head = `HTTP/1.1 ${response.status} ${reasonPhrase(response.status)}\r\n`;
    for (const [name, value] of response.headers) {
      head += `${name === 'X-Request-Id' ? ex.rt.requestIdHeaderName : name}: ${value}\r\n`;
    }
    if (connection !== '') head += `Connection: ${connection}\r\n`;
    head += '\r\n';
    const body = ex.method === 'HEAD' ? null : response.body;
    this.writeHeadAndBody(head, body, 0, body === null ? 0 : body.length);
    this.finish(ex);
  }

  finish(_ex: Exchange): void {
    if (this.state === State.Closed || this.state === State.Tunnel) return;
    if (this.closeAfter) {
      this.state = State.Closed;
      this.deadlineKind = ClientDeadline.None;
      this.socket.end();
      return;
    }
    this.state = State.ReadHead;
    this.setDeadline(ClientDeadline.Idle, this.ctx.runtime.idleTimeoutMs);
    if (this.socket.isPaused()) this.socket.resume();
    if (this.pending !== null && !this.processing) {
      const buf = this.pending;
      this.pending = null;
      // The next pipelined request starts on a fresh stack, after this response was written.
      setImmediate(this.resumePipeline, buf);
    }
  }

  private readonly resumePipeline = (buf: Buffer): void => {
    if (this.state !== State.ReadHead) {
      this.hold(buf, 0);
      return;
    }
    if (this.pending !== null) {
      buf = Buffer.concat([buf, this.pending]);
      this.pending = null;
    }
    this.process(buf, 0);
  };

  abort(_ex: Exchange): void {
    this.state = State.Closed;
    // A reset, so the client sees a failed transfer and never a short body taken as complete.
    this.socket.resetAndDestroy();
  }

  pauseBody(): void {
    if (this.state === State.ReadBody) this.socket.pause();
  }

  resumeBody(): void {
    if (this.state === State.ReadBody && this.socket.isPaused()) this.socket.resume();
  }

  tunnel(ex: Exchange, upstream: Socket, upstreamRest: Buffer | null): void {
    const parts = this.responseParts;
    parts.requestId = ex.requestId;
    parts.requestIdHeader = ex.rt.requestIdHeaderName;
    parts.requestIdLower = ex.rt.requestIdLower;
    parts.via = ex.rt.viaEntry11;
    parts.chunked = false;
    parts.upgrade = true;
    parts.connection = '';
    const head = buildResponseHead(ex.res, parts, ex.route!.responseEdits);
    this.state = State.Tunnel;
    this.deadlineKind = ClientDeadline.None;
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('drain', this.onDrain);
    this.ctx.clock.delete(this);
    this.writeHeadAndBody(head, upstreamRest, 0, upstreamRest === null ? 0 : upstreamRest.length);
    const early = this.pending;
    this.pending = null;
    new Tunnel(this.socket, upstream, early, ex.upstream!.spec.websocketIdleTimeoutMs, this.ctx.clock);
  }

  // ---- errors, deadlines, shutdown -------------------------------------------------------------------

  private badRequest(error: HttpParseError): void {
    const ex = this.ex;
    this.closeAfter = true;
    if (ex.active) {
      // Bad framing in the middle of a body that is already on its way upstream.
      ex.clientAborted();
      this.destroy();
      return;
    }
    ex.reset(this.ctx.runtime);
    ex.method = this.state === State.ReadHead ? '' : this.head.method;
    ex.requestId = generateRequestId();
    const f = failureOf('http_request_error', 'protocol_error', error.code, error.message);
    ex.reject({ ...f, status: error.status });
  }

  /** A chunked body grew past limits.max_body_bytes: 413 if nothing was answered yet, and close. */
  private bodyTooLarge(): void {
    this.closeAfter = true;
    this.socket.pause();
    if (!this.ex.failRequest(bodyTooLarge())) this.destroy();
  }

  private readonly onDrain = (): void => {
    this.ex.onDownstreamDrain();
  };

  private readonly onError = (): void => {
    // 'close' follows; the exchange learns of the abort there.
  };

  private readonly onClose = (): void => {
    const wasActive = this.ex.active;
    this.state = State.Closed;
    this.ctx.clock.delete(this);
    this.ctx.connections.delete(this);
    if (wasActive) this.ex.clientAborted();
  };

  private setDeadline(kind: ClientDeadline, ms: number): void {
    this.deadlineKind = ms > 0 ? kind : ClientDeadline.None;
    this.deadline = this.ctx.clock.now + ms;
  }

  sweep(nowMs: number): void {
    if (this.deadlineKind !== ClientDeadline.None && nowMs >= this.deadline) {
      const kind = this.deadlineKind;
      this.deadlineKind = ClientDeadline.None;
      if (kind === ClientDeadline.Idle || (kind === ClientDeadline.Headers && this.pending === null)) {
        this.destroy();
        return;
      }
      // Slow headers or a slow body: 408 when nothing was answered yet, else just close.
      if (!this.ex.active) {
        this.closeAfter = true;
        this.ex.reset(this.ctx.runtime);
        this.ex.requestId = generateRequestId();
        const f = failureOf(
          'http_request_error',
          'other',
          'GW_CLIENT_TIMEOUT',
          'the client did not send its request in time',
        );
        this.ex.reject({ ...f, status: 408 });
      } else {
        this.ex.clientAborted();
        this.destroy();
      }
      return;
    }
    this.ex.sweep(nowMs);
  }

  drain(): void {
    if (this.state === State.ReadHead && this.pending === null) this.destroy();
    else this.closeAfter = true;
  }

  destroy(): void {
    this.state = State.Closed;
    this.socket.destroy();
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  508: 'Loop Detected',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

function isH2c(upgrade: string): boolean {
  return upgrade.length === 3 && upgrade.toLowerCase() === 'h2c';
}
