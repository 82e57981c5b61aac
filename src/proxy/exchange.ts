/**
 * One request on its way upstream and its response on the way back: pick a server, take or open a
 * connection, send the head and stream the body, read and check the response head, relay the body by
 * its framing, and on failure classify once, retry when safe or answer with the diagnosis.
 *
 * An exchange object belongs to a client connection and is reused for each of its requests, so the
 * request path allocates no closures, promises or header objects (PERF-NOTES rule 6).
 */
import {
  classify,
  type Failure,
  failureOf,
  isPlainHttpToTlsAnswer,
  type Phase,
  renderErrorResponse,
  UpstreamError,
} from '../diagnose/index.js';
import {
  ChunkedScanner,
  checkPartialHead,
  findHeadEnd,
  type HeadLimits,
  ParsedHead,
  parseResponseHead,
} from '../http1/index.js';
import type { UpstreamGuard } from '../resilience/index.js';
import type { PickContext, Upstream } from '../upstream/index.js';
import type { Clock } from './clock.js';
import { preciseMs } from './clock.js';
import type { Downstream } from './downstream.js';
import type { ExchangeObserver } from './observer.js';
import type { CompiledRoute, Runtime } from './runtime.js';
import { probeTls } from './tls-probe.js';
import type { UpstreamConnection, UpstreamOwner } from './upstream-connection.js';
import { mayBeIdleRace, openConnection, release, type Server, takeIdle } from './upstream-pool.js';

enum Body {
  None = 0,
  Length = 1,
  Chunked = 2,
  /** Response only: delimited by the upstream closing the connection. */
  Close = 3,
}

enum Deadline {
  None = 0,
  Connect = 1,
  Send = 2,
  Read = 3,
}

/** RFC 9110 §9.2.2. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export class Exchange implements UpstreamOwner {
  // Request facts, set by the downstream before `start()`.
  rt!: Runtime;
  route: CompiledRoute | null = null;
  upstream: Upstream<UpstreamConnection> | null = null;
  private guard: UpstreamGuard<Exchange> | null = null;
  /** Holds one of the upstream's admission slots (max_inflight). */
  private admitted = false;
  /** Waiting in the upstream's queue for a slot. */
  private queued = false;
  /** The current server admitted this try (breaker, connection limit): its outcome must be recorded. */
  private acquired = false;
  /** Coarse-clock start, for the retry deadline. */
  private startedAtClock = 0;
  /** When the exchange entered the admission queue (precise ms). */
  private queuedAt = 0;
  private replayLimit = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  method = '';
  /** The path as the client sent it (for logs); `target` is what goes upstream. */
  path = '';
  target = '';
  host = '';
  requestId = '';
  hashKey = '';
  /** The head sent upstream (text, latin1). */
  requestHead = '';
  upgrade = false;
  startedAt = 0;
  // Request body from the client.
  private reqMode = Body.None;
  private reqRemaining = 0;
  private declaredLength = 0;
  /** Body bytes of a streamed (HTTP/2) request, counted before re-framing. */
  streamedBytes = 0;
  private readonly reqScanner = new ChunkedScanner();
  requestComplete = true;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private replayable = true;
  // Upstream side.
  server: Server | null = null;
  conn: UpstreamConnection | null = null;
  reused = false;
  /** Reused after an idle time long enough that the server may have closed it (keep-alive race). */
  private idleRace = false;
  attempt = 0;
  private freshRetryUsed = false;
  private readonly tried: Server[] = [];
  private readonly pickContext: PickContext = { clientAddress: '', hashKey: '', tried: null };
  private headWritten = false;
  private tcpConnectedAt = -1;
  private connectStartedAt = 0;
  connectMs = -1;
  headMs = -1;
  /** Time spent in the upstream's admission queue; -1 when the request never waited there. */
  queueWaitMs = -1;
  private deadline = 0;
  private deadlineKind = Deadline.None;
  private upstreamPaused = false;
  // Response.
  readonly res = new ParsedHead();
  private readonly resLimits: HeadLimits = { maxHeadBytes: 32768, maxRequestLineBytes: 32768, maxHeaders: 200 };
  private resPending: Buffer | null = null;
  private resMode = Body.None;
  private resRemaining = 0;
  private readonly resScanner = new ChunkedScanner();
  private upstreamReusable = false;
  headSent = false;
  status = 0;
  bytesOut = 0;
  failure: Failure | null = null;
  /**
   * The last failure reported through the observer's `upstreamFailed`: when `failure` is this same
   * value at `exchangeDone`, it was already counted there (an upstream try failed); otherwise the
   * gateway answered it without a try (no server, load shed).
   */
  observedFailure: Failure | null = null;
  /** True from `start()` until the response is finished, aborted or answered with an error. */
  active = false;

  constructor(
    readonly downstream: Downstream,
    private readonly clock: Clock,
    private readonly observer: ExchangeObserver,
  ) {}

  /** Resets per-request state; the downstream then fills the request facts and calls `start()`. */
  reset(rt: Runtime): void {
    this.rt = rt;
    this.route = null;
    this.upstream = null;
    this.upgrade = false;
    this.reqMode = Body.None;
    this.requestComplete = true;
    this.kept.length = 0;
    this.keptBytes = 0;
    this.replayable = true;
    this.server = null;
    this.conn = null;
    this.reused = false;
    this.attempt = 0;
    this.freshRetryUsed = false;
    this.tried.length = 0;
    this.connectMs = -1;
    this.headMs = -1;
    this.queueWaitMs = -1;
    this.headSent = false;
    this.status = 0;
    this.bytesOut = 0;
    this.failure = null;
    this.observedFailure = null;
    this.startedAt = preciseMs();
    this.guard = null;
    this.admitted = false;
    this.queued = false;
    this.acquired = false;
    this.replayLimit = rt.replayBodyBytes;
  }

  /** Declares the request body framing (RFC 9112 §6.3). */
  setRequestBody(chunked: boolean, contentLength: number): void {
    if (chunked) {
      this.reqMode = Body.Chunked;
      this.reqScanner.reset();
      this.requestComplete = false;
    } else if (contentLength > 0) {
      this.reqMode = Body.Length;
      this.reqRemaining = contentLength;
      this.declaredLength = contentLength;
      this.requestComplete = false;
    }
  }

  /** The body arrives as a stream of already framed bytes (HTTP/2 data re-framed as chunked). */
  setStreamedBody(): void {
    this.reqMode = Body.Chunked;
    this.reqScanner.reset();
    this.streamedBytes = 0;
    this.requestComplete = false;
  }

  /** Routing found nothing, or the request was refused before any upstream was involved. */
  reject(failure: Failure): void {
    this.active = true;
    this.respondWithFailure(failure);
  }

  start(route: CompiledRoute): void {
    this.active = true;
    this.route = route;
    this.upstream = route.upstream;
    const guard = route.guard;
    this.guard = guard;
    this.resLimits.maxHeadBytes = route.upstream.spec.maxResponseHeadBytes;
    this.resLimits.maxRequestLineBytes = route.upstream.spec.maxResponseHeadBytes;
    this.replayLimit = guard.retry.bodyLimitBytes;
    const now = this.clock.now;
    this.startedAtClock = now;
    guard.retry.budget?.recordRequest(now);
    // Load shedding: a bounded FIFO queue in front of max_inflight, then 503 with Retry-After.
    if (!guard.queue.tryAdmit()) {
      if (guard.queue.enqueue(this, now)) {
        this.queued = true;
        this.queuedAt = preciseMs();
        return;
      }
      this.shed(`upstream "${route.upstream.name}" is at max_inflight and its queue is full`);
      return;
    }
    this.admitted = true;
    this.dispatch();
  }

  /** A queued exchange got its slot. */
  admitFromQueue(): void {
    this.queued = false;
    this.queueWaitMs = preciseMs() - this.queuedAt;
    this.admitted = true;
    this.dispatch();
  }

  /** The queue wait passed limits.queue_timeout. */
  queueExpired(): void {
    if (!this.queued) return;
    this.queued = false;
    this.queueWaitMs = preciseMs() - this.queuedAt;
    this.shed(`waited longer than limits.queue_timeout for a slot of upstream "${this.upstream!.name}"`);
  }

  private shed(detail: string): void {
    this.respondWithFailure(
      failureOf('connection_limit_reached', 'overload_or_exhaustion', 'GW_LIMIT', detail, {
        upstream: this.upstream!.name,
        attempt: this.attempt,
        retryAfterSeconds: this.guard!.retryAfterSeconds,
      }),
    );
  }

  /** Gives back the admission slot (or the queue place) this exchange held, exactly once. */
  private leave(): void {
    if (this.backoffTimer !== undefined) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
    }
    const guard = this.guard;
    if (guard === null) return;
    if (this.queued) {
      this.queued = false;
      this.queueWaitMs = preciseMs() - this.queuedAt;
      guard.queue.remove(this);
    }
    if (this.admitted) {
      this.admitted = false;
      guard.queue.release(this.clock.now)?.admitFromQueue();
    }
  }

  // ---- choosing a server and a connection -------------------------------------------------------

  private dispatch(): void {
    const upstream = this.upstream!;
    this.attempt++;
    const ctx = this.pickContext;
    ctx.clientAddress = this.downstream.client.clientAddress;
    ctx.hashKey = this.hashKey;
    ctx.tried = this.tried;
    const guard = this.guard!;
    let limited = false;
    let server = upstream.pick(ctx) as Server | undefined;
    // Connection limit or breaker (half-open admits a few probes): skip to another server.
    while (server !== undefined && !guard.admit(server)) {
      limited = true;
      this.tried.push(server);
      server = upstream.pick(ctx) as Server | undefined;
    }
    // Every server was tried already: a retry may go back to one rather than give up.
    if (server === undefined && this.attempt > 1) {
      ctx.tried = null;
      server = upstream.pick(ctx) as Server | undefined;
      if (server !== undefined && !guard.admit(server)) server = undefined;
    }
    if (server === undefined && limited) {
      this.shed(`every available server of upstream "${upstream.name}" is at its connection limit or probing`);
      return;
    }
    if (server === undefined) {
      this.respondWithFailure(
        failureOf(
          'destination_unavailable',
          'backend_down',
          'GW_NO_SERVER',
          `no server of upstream "${upstream.name}" is available`,
          {
            upstream: upstream.name,
            attempt: this.attempt,
          },
        ),
      );
      return;
    }
    this.tried.push(server);
    this.useServer(server, false);
  }

  private useServer(server: Server, forceFresh: boolean): void {
    this.server = server;
    this.acquired = true;
    server.inflight++;
    this.headWritten = false;
    this.resetResponse();
    const idle = forceFresh ? undefined : takeIdle(server, this.clock.now);
    if (idle !== undefined) {
      this.conn = idle;
      this.reused = true;
      this.idleRace = mayBeIdleRace(idle, this.clock.now);
      idle.owner = this;
      this.connectMs = 0;
      this.sendHead();
      return;
    }
    this.reused = false;
    this.idleRace = false;
    this.tcpConnectedAt = -1;
    this.connectStartedAt = preciseMs();
    this.setDeadline(Deadline.Connect, this.upstream!.spec.connectTimeoutMs);
    const conn = openConnection(server, this);
    this.conn = conn;
    if (server.kind === 'https') conn.socket.once('connect', this.markTcpConnected);
  }

  private readonly markTcpConnected = (): void => {
    this.tcpConnectedAt = preciseMs();
  };

  onUpstreamConnect(): void {
    this.connectMs = preciseMs() - this.connectStartedAt;
    this.sendHead();
  }

  // ---- request head and body -----------------------------------------------------------------------

  private sendHead(): void {
    const conn = this.conn!;
    this.headWritten = true;
    let ok: boolean;
    if (this.kept.length === 0) {
      ok = conn.write(this.requestHead, 'latin1');
    } else if (this.kept.length === 1 && this.kept[0]!.length <= 16384) {
      // One write for head plus a small body (PERF-NOTES rule 3).
      const body = this.kept[0]!;
      const headBytes = this.requestHead.length; // latin1: one byte per character
      const out = Buffer.allocUnsafe(headBytes + body.length);
      out.write(this.requestHead, 0, 'latin1');
      body.copy(out, headBytes);
      ok = conn.write(out);
    } else {
      conn.socket.cork();
      conn.write(this.requestHead, 'latin1');
      for (const chunk of this.kept) conn.write(chunk);
      conn.socket.uncork();
      ok = conn.socket.writableLength === 0 || !conn.socket.writableNeedDrain;
    }
    if (!this.replayable) this.dropKept();
    if (ok) {
      this.setDeadline(Deadline.Read, this.headReadMs());
      if (!this.requestComplete) this.downstream.resumeBody();
    } else {
      this.setDeadline(Deadline.Send, this.upstream!.spec.sendTimeoutMs);
    }
  }

  /**
   * Request body bytes from the client, `buf[start, end)`. Returns the offset where the body ended
   * (bytes past it belong to the next pipelined request), or `end` when more body is expected.
   * Throws HttpParseError on bad chunked framing.
   */
  requestData(buf: Buffer, start: number, end: number): number {
    let bodyEnd: number;
    if (this.reqMode === Body.Length) {
      const n = Math.min(this.reqRemaining, end - start);
      this.reqRemaining -= n;
      bodyEnd = start + n;
      if (this.reqRemaining === 0) this.requestComplete = true;
    } else {
      const r = this.reqScanner.scan(buf, start, end);
      bodyEnd = r < 0 ? end : r;
      if (r >= 0) this.requestComplete = true;
    }
    if (bodyEnd > start) this.forwardBody(buf.subarray(start, bodyEnd));
    return bodyEnd;
  }

  /** Request body bytes already framed (from an HTTP/2 stream, encoded as chunked by the caller). */
  forwardBody(chunk: Buffer): void {
    // The response already began (the upstream answered early): the rest of the body has no reader;
    // the client connection closes after the response.
    if (this.headSent) return;
    const conn = this.conn;
    const sendable = conn !== null && this.headWritten;
    if (this.replayable) {
      if (!sendable || this.keptBytes + chunk.length <= this.replayLimit) {
        this.kept.push(chunk);
        this.keptBytes += chunk.length;
      } else {
        this.replayable = false;
        this.dropKept();
      }
    }
    if (!sendable) {
      // Not connected yet: hold the bytes, and stop reading the client once more than the replay
      // limit is waiting.
      if (this.keptBytes > this.replayLimit) this.downstream.pauseBody();
      return;
    }
    if (!conn.write(chunk)) {
      this.downstream.pauseBody();
      this.setDeadline(Deadline.Send, this.upstream!.spec.sendTimeoutMs);
    }
  }

  /** Request body bytes received so far (chunk data for chunked bodies). */
  get requestBodyBytes(): number {
    return this.reqMode === Body.Chunked
      ? this.reqScanner.dataBytes + this.streamedBytes
      : this.reqMode === Body.Length
        ? this.declaredLength - this.reqRemaining
        : 0;
  }

  /**
   * The request turned out to be unacceptable mid-body (too large): the upstream exchange is
   * abandoned and, when nothing was sent to the client yet, the failure is answered. Returns false
   * when the response had already begun (the caller then closes the connection).
   */
  failRequest(failure: Failure): boolean {
    if (!this.active) return true;
    this.releaseServer();
    if (this.headSent) {
      this.active = false;
      this.leave();
      this.failure = failure;
      this.observer.exchangeDone(this);
      return false;
    }
    this.respondWithFailure(failure);
    return true;
  }

  /** The client side finished sending (HTTP/2 end of stream). */
  endRequestBody(): void {
    this.requestComplete = true;
  }

  private dropKept(): void {
    this.kept.length = 0;
    this.keptBytes = 0;
  }

  onUpstreamDrain(): void {
    if (this.deadlineKind === Deadline.Send) this.setDeadline(Deadline.Read, this.upstream!.spec.readTimeoutMs);
    if (!this.requestComplete) this.downstream.resumeBody();
  }

  // ---- response ----------------------------------------------------------------------------------

  private resetResponse(): void {
    this.resPending = null;
    this.resMode = Body.None;
    this.upstreamReusable = false;
    this.upstreamPaused = false;
  }

  /** Time allowed for the response head: the read timeout, cut by per_try_timeout and the deadline. */
  private headReadMs(): number {
    const readMs = this.upstream!.spec.readTimeoutMs;
    const tryMs = this.guard!.retry.tryTimeoutMs(this.startedAtClock, this.clock.now);
    return tryMs > 0 && tryMs < readMs ? tryMs : readMs;
  }

  onUpstreamData(conn: UpstreamConnection, chunk: Buffer): void {
    if (this.deadlineKind !== Deadline.None) {
      this.setDeadline(Deadline.Read, this.headSent ? this.upstream!.spec.readTimeoutMs : this.headReadMs());
    }
    if (this.headSent) {
      this.relayBody(chunk, 0, chunk.length);
      return;
    }
    let buf = chunk;
    let from = 0;
    // Bytes that cannot begin a status line fail at once: a server speaking another protocol may
    // never send the blank line a head ends with.
    if (this.resPending === null && !startsLikeStatusLine(chunk)) {
      this.upstreamFailed(this.responseHeadError(new Error('not an HTTP response'), chunk, 0), 'read_head');
      return;
    }
    if (this.resPending !== null) {
      from = Math.max(0, this.resPending.length - 3);
      buf = Buffer.concat([this.resPending, chunk]);
      this.resPending = null;
    }
    let start = 0;
    // A loop because interim 1xx responses may precede the final one in the same read.
    for (;;) {
      const headEnd = findHeadEnd(buf, start, Math.max(start, from), buf.length);
      if (headEnd < 0) {
        try {
          checkPartialHead(buf, start, buf.length, this.resLimits, false);
        } catch (error) {
          this.upstreamFailed(this.responseHeadError(error, buf, start), 'read_head');
          return;
        }
        this.resPending = start === 0 ? buf : buf.subarray(start);
        return;
      }
      try {
        parseResponseHead(buf, start, headEnd, this.resLimits, this.res);
      } catch (error) {
        this.upstreamFailed(this.responseHeadError(error, buf, start), 'read_head');
        return;
      }
      const status = this.res.statusCode;
      if (status >= 100 && status < 200 && status !== 101) {
        // RFC 9110 §15.2: interim responses go on to HTTP/1.1 clients, never to HTTP/1.0 ones.
        if (this.downstream.httpMinor >= 1) this.downstream.writeInterim(this);
        start = headEnd;
        from = headEnd;
        if (start === buf.length) return;
        continue;
      }
      this.onResponseHead(conn, buf, headEnd);
      return;
    }
  }

  private responseHeadError(error: unknown, buf: Buffer, start: number): Error {
    const code =
      (error as { code?: string }).code === 'HPE_HEAD_TOO_LARGE' ||
      (error as { code?: string }).code === 'HPE_TOO_MANY_HEADERS'
        ? 'GW_RESPONSE_HEAD_TOO_LARGE'
        : 'GW_BAD_RESPONSE';
    const err = new UpstreamError(
      code,
      code === 'GW_BAD_RESPONSE' ? 'upstream sent an invalid response head' : 'upstream sent too big a header',
      { cause: error },
    );
    this.firstBytes = buf.subarray(start, Math.min(buf.length, start + 16));
    return err;
  }

  private firstBytes: Buffer | undefined;

  private onResponseHead(conn: UpstreamConnection, buf: Buffer, headEnd: number): void {
    const res = this.res;
    const status = res.statusCode;
    this.headMs = preciseMs() - this.startedAt;
    this.status = status;
    // A TLS port's well-known answer to plain HTTP never reached the application behind it.
    if (
      status === 400 &&
      !this.reused &&
      isPlainHttpToTlsAnswer(400, buf.toString('latin1', headEnd, Math.min(buf.length, headEnd + 512)))
    ) {
      this.upstreamFailed(
        new UpstreamError('GW_PLAIN_HTTP_TO_TLS', 'upstream answered that it expects TLS'),
        'read_head',
      );
      return;
    }
    const guard = this.guard!;
    if (this.acquired) {
      this.acquired = false;
      guard.record(this.server!, !guard.isFailureStatus(status), this.headMs);
    }
    // A retriable status (503 from a server that is restarting, say): another server may do better.
    if (guard.retry.retriableStatus(status) && this.replayable && this.requestComplete && this.mayRetry()) {
      this.upstreamReusable = false;
      this.abandonConnection();
      this.server!.inflight--;
      this.scheduleRetry();
      return;
    }
    if (status === 101) {
      if (!this.upgrade) {
        this.upstreamFailed(
          new UpstreamError('GW_BAD_RESPONSE', 'upstream switched protocols without being asked'),
          'read_head',
        );
        return;
      }
      this.openTunnel(conn, buf, headEnd);
      return;
    }
    if (this.method === 'HEAD' || status === 204 || status === 304) this.resMode = Body.None;
    else if (res.chunked) {
      this.resMode = Body.Chunked;
      this.resScanner.reset();
    } else if (res.contentLength >= 0) {
      this.resMode = res.contentLength === 0 ? Body.None : Body.Length;
      this.resRemaining = res.contentLength;
    } else this.resMode = Body.Close;
    this.upstreamReusable = res.versionMinor === 1 && !res.connectionClose && this.resMode !== Body.Close;
    if (res.keepAliveTimeoutS >= 0) conn.keepAliveHintMs = res.keepAliveTimeoutS * 1000;
    this.headSent = true;
    // The head and whatever body arrived with it leave in one write.
    let bodyEnd = headEnd;
    let complete = false;
    if (this.resMode === Body.None) {
      complete = true;
      if (headEnd < buf.length) this.upstreamReusable = false; // bytes after a bodiless response
    } else {
      const framed = this.frameBody(buf, headEnd, buf.length);
      if (framed.error) return;
      bodyEnd = framed.end;
      complete = framed.complete;
    }
    this.bytesOut += bodyEnd - headEnd;
    const ok = this.downstream.writeResponse(this, buf, headEnd, bodyEnd);
    if (complete) this.complete();
    else if (!ok) this.pauseUpstream();
  }

  private readonly framed = { end: 0, complete: false, error: false };

  /** Finds where the response body ends within buf[start, end). */
  private frameBody(buf: Buffer, start: number, end: number): { end: number; complete: boolean; error: boolean } {
    const out = this.framed;
    out.error = false;
    out.complete = false;
    if (this.resMode === Body.Length) {
      const n = Math.min(this.resRemaining, end - start);
      this.resRemaining -= n;
      out.end = start + n;
      if (this.resRemaining === 0) {
        out.complete = true;
        if (out.end < end) this.upstreamReusable = false;
      }
    } else if (this.resMode === Body.Chunked) {
      let r: number;
      try {
        r = this.resScanner.scan(buf, start, end);
      } catch (error) {
        out.error = true;
        this.bodyFailed(
          new UpstreamError('GW_BAD_RESPONSE', 'upstream sent invalid chunked framing', { cause: error }),
        );
        return out;
      }
      out.end = r < 0 ? end : r;
      if (r >= 0) {
        out.complete = true;
        if (r < end) this.upstreamReusable = false;
      }
    } else {
      out.end = end;
    }
    return out;
  }

  private relayBody(buf: Buffer, start: number, end: number): void {
    const framed = this.frameBody(buf, start, end);
    if (framed.error) return;
    this.bytesOut += framed.end - start;
    const ok = framed.end > start ? this.downstream.writeBody(buf, start, framed.end) : true;
    if (framed.complete) this.complete();
    else if (!ok) this.pauseUpstream();
  }

  private pauseUpstream(): void {
    this.upstreamPaused = true;
    this.conn?.socket.pause();
    // Waiting for the client to read is not the upstream's delay.
    this.deadlineKind = Deadline.None;
  }

  /** The client drained its socket: read from the upstream again. */
  onDownstreamDrain(): void {
    if (!this.upstreamPaused || this.conn === null) return;
    this.upstreamPaused = false;
    this.conn.socket.resume();
    this.setDeadline(Deadline.Read, this.upstream!.spec.readTimeoutMs);
  }

  private complete(): void {
    this.deadlineKind = Deadline.None;
    const conn = this.conn!;
    this.conn = null;
    this.server!.inflight--;
    if (this.upstreamReusable && this.requestComplete && !this.upstreamPaused)
      release(this.upstream!, conn, this.clock.now);
    else {
      conn.owner = null;
      conn.destroy();
    }
    this.active = false;
    this.leave();
    this.downstream.finish(this);
    this.observer.exchangeDone(this);
  }

  private openTunnel(conn: UpstreamConnection, buf: Buffer, headEnd: number): void {
    this.deadlineKind = Deadline.None;
    this.headSent = true;
    this.conn = null;
    this.server!.inflight--;
    const rest = headEnd < buf.length ? buf.subarray(headEnd) : null;
    this.active = false;
    this.leave();
    this.downstream.tunnel(this, conn.detach(), rest);
    this.observer.exchangeDone(this);
  }

  // ---- failures ------------------------------------------------------------------------------------

  onUpstreamClose(conn: UpstreamConnection, error: Error | undefined): void {
    if (conn !== this.conn) return;
    if (this.headSent) {
      if (this.resMode === Body.Close && error === undefined) {
        this.upstreamReusable = false;
        this.complete();
      } else {
        this.bodyFailed(
          error ?? new UpstreamError('GW_BODY_INCOMPLETE', 'upstream closed the connection before the end of the body'),
        );
      }
      return;
    }
    const phase: Phase = !conn.connected
      ? this.tcpConnectedAt >= 0
        ? 'tls'
        : 'connect'
      : this.deadlineKind === Deadline.Send
        ? 'send'
        : 'read_head';
    if (error === undefined) {
      error = new UpstreamError(
        'GW_UPSTREAM_CLOSED',
        'upstream prematurely closed connection while reading response header',
      );
      const server = this.server!;
      // A fresh plain connection closed without a byte: the port may speak TLS (an http:// URL aimed
      // at an HTTPS port). Probe it once per server and remember the answer.
      if (!this.reused && server.kind === 'http' && this.resPending === null && server.speaksTls === undefined) {
        this.conn = null;
        this.deadlineKind = Deadline.None;
        const failedError = error;
        probeTls(server.host, server.port, 1000).then((speaksTls) => {
          server.speaksTls = speaksTls;
          if (this.active && this.server === server && this.conn === null) this.upstreamFailed(failedError, phase);
        });
        return;
      }
    }
    this.conn = null;
    this.upstreamFailed(error, phase);
  }

  /** Failure before any byte of the response reached the client: classify, then retry or answer. */
  private upstreamFailed(error: Error, phase: Phase): void {
    this.deadlineKind = Deadline.None;
    this.abandonConnection();
    const server = this.server!;
    server.inflight--;
    const failure = classify(error, {
      phase,
      upstream: this.upstream!.name,
      server: server.address,
      attempt: this.attempt,
      reused: this.idleRace,
      connectMs: this.connectMs,
      headMs: this.headMs,
      firstBytes: this.firstBytes,
      serverSpeaksTls: server.speaksTls,
      unixPath: server.kind === 'unix',
    });
    this.firstBytes = undefined;
    this.observedFailure = failure;
    this.observer.upstreamFailed(this, failure);
    if (this.acquired) {
      this.acquired = false;
      this.guard!.record(server, false, 0);
    }
    const noByteReached = !this.headWritten || phase === 'connect' || phase === 'tls';
    const replayable = this.replayable && (noByteReached || IDEMPOTENT.has(this.method));
    // A reused keep-alive connection that the server had already closed: once more on a fresh one.
    if (
      this.reused &&
      !this.freshRetryUsed &&
      replayable &&
      (failure.code === 'GW_UPSTREAM_CLOSED' || failure.code === 'ECONNRESET' || failure.code === 'EPIPE')
    ) {
      this.freshRetryUsed = true;
      this.useServer(server, true);
      return;
    }
    if (
      replayable &&
      !this.upgradeSent() &&
      this.guard!.retry.retriableFailure(failure.type, failure.code, failure.phase) &&
      this.mayRetry()
    ) {
      this.scheduleRetry();
      return;
    }
    this.respondWithFailure(failure);
  }

  private retryDelayMs = 0;

  /**
   * Whether another try may start: attempts left, the deadline not passed (backoff included) and the
   * retry budget not spent, so that retries never multiply an outage.
   */
  private mayRetry(): boolean {
    const policy = this.guard!.retry;
    const now = this.clock.now;
    const delay = policy.backoffMs(this.attempt);
    if (!policy.mayRetry(this.attempt, this.startedAtClock, now, delay)) return false;
    if (policy.budget !== undefined && !policy.budget.tryRetry(now)) return false;
    this.retryDelayMs = delay;
    return true;
  }

  /** The next try, after the backoff (a timer only on this failure path). */
  private scheduleRetry(): void {
    if (this.retryDelayMs <= 0) {
      this.dispatch();
      return;
    }
    this.backoffTimer = setTimeout(this.retryNow, this.retryDelayMs);
  }

  private readonly retryNow = (): void => {
    this.backoffTimer = undefined;
    if (this.active) this.dispatch();
  };

  /** Gives up the current try without an outcome: its connection is closed and the server released. */
  private releaseServer(): void {
    const conn = this.conn;
    if (conn !== null) {
      conn.owner = null;
      conn.destroy();
      this.conn = null;
      this.server!.inflight--;
    }
    if (this.acquired) {
      this.acquired = false;
      this.guard?.abandon(this.server!);
    }
  }

  /** Drops the current upstream connection (its response is not wanted). */
  private abandonConnection(): void {
    const conn = this.conn;
    if (conn === null) return;
    conn.owner = null;
    conn.destroy();
    this.conn = null;
  }

  private upgradeSent(): boolean {
    return this.upgrade && this.headWritten;
  }

  /** Failure after the head reached the client: the client connection is aborted. */
  private bodyFailed(error: Error): void {
    this.deadlineKind = Deadline.None;
    this.abandonConnection();
    this.server!.inflight--;
    const failure = classify(error, {
      phase: 'read_body',
      upstream: this.upstream!.name,
      server: this.server!.address,
      attempt: this.attempt,
      reused: false, // after the head, a close is never the keep-alive race
      connectMs: this.connectMs,
      headMs: this.headMs,
    });
    this.guard!.recordBodyFailure(this.server!);
    // Whatever the low-level error, what the client experiences is an incomplete response.
    this.failure =
      failure.type === 'http_response_incomplete' ? failure : { ...failure, type: 'http_response_incomplete' };
    this.observedFailure = this.failure;
    this.observer.upstreamFailed(this, this.failure);
    this.active = false;
    this.leave();
    this.downstream.abort(this);
    this.observer.exchangeDone(this);
  }

  private respondWithFailure(failure: Failure): void {
    this.deadlineKind = Deadline.None;
    this.failure = failure;
    this.status = failure.status;
    const response = renderErrorResponse(failure, {
      requestId: this.requestId,
      accept: this.downstream.requestAccept(),
      verbose: this.rt.verbose,
      method: this.method,
      via: this.rt.viaEntry11,
    });
    this.headSent = true;
    this.bytesOut = this.method === 'HEAD' ? 0 : response.body.length;
    this.active = false;
    this.leave();
    this.downstream.writeError(this, response);
    this.observer.exchangeDone(this);
  }

  /** The client went away mid-exchange: the upstream exchange is abandoned, never reused. */
  clientAborted(): void {
    if (!this.active) return;
    this.active = false;
    this.deadlineKind = Deadline.None;
    this.releaseServer();
    this.leave();
    this.status = 499;
    this.observer.exchangeDone(this);
  }

  // ---- deadlines (checked by the connection's sweep) -----------------------------------------------

  private setDeadline(kind: Deadline, ms: number): void {
    this.deadlineKind = kind;
    this.deadline = this.clock.now + ms;
  }

  sweep(nowMs: number): void {
    if (this.deadlineKind === Deadline.None || nowMs < this.deadline) return;
    const kind = this.deadlineKind;
    this.deadlineKind = Deadline.None;
    if (kind === Deadline.Connect) {
      const dns = this.conn !== null && !this.conn.resolved;
      this.upstreamFailed(
        dns
          ? new UpstreamError('GW_DNS_TIMEOUT', 'upstream host name did not resolve in time')
          : new UpstreamError('GW_CONNECT_TIMEOUT', 'upstream timed out while connecting'),
        dns ? 'dns' : this.tcpConnectedAt >= 0 ? 'tls' : 'connect',
      );
    } else if (kind === Deadline.Send) {
      if (this.headSent)
        this.bodyFailed(new UpstreamError('GW_SEND_TIMEOUT', 'upstream timed out while sending request'));
      else
        this.upstreamFailed(new UpstreamError('GW_SEND_TIMEOUT', 'upstream timed out while sending request'), 'send');
    } else if (this.headSent) {
      this.bodyFailed(new UpstreamError('GW_READ_TIMEOUT', 'upstream timed out while reading upstream'));
    } else {
      this.upstreamFailed(
        new UpstreamError('GW_READ_TIMEOUT', 'upstream timed out while reading response header'),
        'read_head',
      );
    }
  }
}

const STATUS_LINE_START = Buffer.from('HTTP/1.', 'latin1');

/** Whether `chunk` can be the start of `HTTP/1.x ...` (checks as many bytes as there are). */
function startsLikeStatusLine(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, STATUS_LINE_START.length);
  for (let i = 0; i < n; i++) if (chunk[i] !== STATUS_LINE_START[i]) return false;
  return true;
}
