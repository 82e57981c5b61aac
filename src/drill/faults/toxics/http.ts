/**
 * Gatewise's HTTP-level faults, toxics of their own that Toxiproxy does not have. Each one answers
 * for the upstream: the client's requests are read here (never forwarded), whatever the upstream
 * sends is dropped, and the fault's answer goes down the rest of the downstream chain, so other
 * downstream toxics (latency, slicer...) still apply to it.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import {
  ChunkedScanner,
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  ParsedHead,
  parseRequestHead,
} from '../../../http1/index.js';
import { hugeHead } from '../../upstreams/raw.js';
import { SSH_BANNER } from '../../upstreams.js';
import type { DetachReason } from '../stage.js';
import { Stage, type StageContext } from '../stage.js';
import type { Attributes } from '../toxic.js';

/** One request as far as an answer needs it. */
export interface RequestSeen {
  method: string;
  /** The connection ends after this exchange (Connection: close, HTTP/1.0, or framing we won't follow). */
  close: boolean;
}

/** A request head that cannot be parsed is answered as the last one on its connection. */
const BAD_REQUEST: RequestSeen = Object.freeze({ method: 'GET', close: true });
/** What scanChunked returns for broken chunked framing. */
const BROKEN = -2;

/**
 * Follows the client's requests on one connection (heads parsed by the gateway's own HTTP/1.1
 * engine, bodies skipped by Content-Length or chunked framing, RFC 9112 §6.3) and reports each head
 * once it is complete. Kept across updates of the toxic, so a stream is never re-read mid-request.
 */
export class RequestTracker {
  private pending: Buffer = Buffer.alloc(0);
  private bodyBytesLeft = 0;
  private chunked: ChunkedScanner | undefined;
  private stopped = false;
  private readonly head = new ParsedHead();

  /**
   * Feeds client bytes. `onRequest` answers a request and returns false to stop following (the
   * connection is closing); `onBroken` is told when a body's framing breaks after its head was answered.
   */
  feed(chunk: Buffer, onRequest: (request: RequestSeen) => boolean, onBroken: () => void): void {
    if (this.stopped) return;
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = Buffer.alloc(0);
    let position = 0;
    while (position < buffer.length && !this.stopped) {
      if (this.bodyBytesLeft > 0) {
        const skipped = Math.min(this.bodyBytesLeft, buffer.length - position);
        this.bodyBytesLeft -= skipped;
        position += skipped;
      } else if (this.chunked !== undefined) {
        const end = this.scanChunked(buffer, position);
        if (end === BROKEN) {
          this.stopped = true;
          onBroken();
        }
        // -1: the chunked body goes on past this buffer, whose every byte the scanner consumed.
        position = end < 0 ? buffer.length : end;
      } else {
        const headEnd = findHeadEnd(buffer, position, position, buffer.length);
        if (headEnd < 0) {
          if (buffer.length - position > DEFAULT_HEAD_LIMITS.maxHeadBytes) this.stop(onRequest, BAD_REQUEST);
          else this.pending = Buffer.from(buffer.subarray(position));
          return;
        }
        const request = this.parse(buffer, position, headEnd);
        position = headEnd;
        if (request === BAD_REQUEST || request.close) this.stop(onRequest, request);
        else if (!onRequest(request)) this.stopped = true;
      }
    }
  }

  /** Answers the last request this connection will have, then follows no more. */
  private stop(onRequest: (request: RequestSeen) => boolean, last: RequestSeen): void {
    this.stopped = true;
    onRequest(last);
  }

  /** The end of the chunked body, -1 when it goes on past this buffer, BROKEN when its framing is. */
  private scanChunked(buffer: Buffer, position: number): number {
    try {
      const end = this.chunked!.scan(buffer, position, buffer.length);
      if (end >= 0) this.chunked = undefined;
      return end;
    } catch {
      return BROKEN;
    }
  }

  private parse(buffer: Buffer, start: number, headEnd: number): RequestSeen {
    try {
      parseRequestHead(buffer, start, headEnd, DEFAULT_HEAD_LIMITS, this.head);
    } catch {
      return BAD_REQUEST;
    }
    const head = this.head;
    const hasBody = head.chunked || head.contentLength > 0;
    if (head.chunked) {
      this.chunked ??= new ChunkedScanner();
      this.chunked.reset();
    } else if (head.contentLength > 0) {
      this.bodyBytesLeft = head.contentLength;
    }
    const keepAlive = head.versionMinor === 1 ? !head.connectionClose : head.connectionKeepAlive;
    // A client expecting 100-continue may never send the body once it has a final answer
    // (RFC 9110 §10.1.1), so where the next request starts is unknown: this exchange is the last.
    const close = !keepAlive || (hasBody && head.expectContinue) || head.connectionUpgrade;
    return { method: head.method, close };
  }
}

/** The state an HTTP fault keeps per connection, across updates. */
export interface HttpFaultState {
  tracker: RequestTracker;
}

export function newHttpFaultState(): HttpFaultState {
  return { tracker: new RequestTracker() };
}

/** Answers requests in place of the upstream; subclasses say with what. */
abstract class HttpFaultStage extends Stage {
  private untap: (() => void) | undefined;
  private ended = false;

  constructor(
    context: StageContext,
    protected readonly attributes: Readonly<Attributes>,
    private readonly state: HttpFaultState,
  ) {
    super(context);
    this.untap = context.tapClient((chunk) =>
      this.state.tracker.feed(
        chunk,
        (request) => this.onRequest(request),
        () => this.end(),
      ),
    );
  }

  /** Answers one request; returns false once the connection is to close. */
  protected abstract answer(request: RequestSeen): { bytes: Buffer; close: boolean };

  private onRequest(request: RequestSeen): boolean {
    if (this.ended) return false;
    const { bytes, close } = this.answer(request);
    this.next.write(bytes);
    if (close || request.close) this.end();
    return !this.ended;
  }

  /** The upstream's answer is replaced, so it is dropped. */
  write(_chunk: Buffer): void {}

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    this.next.end();
  }

  private release(): void {
    this.untap?.();
    this.untap = undefined;
  }

  /**
   * Removal closes the connection: requests read here never reached the upstream, so what the
   * upstream would see next could begin mid-request.
   */
  override detach(reason: DetachReason): void {
    this.release();
    if (reason === 'removed') this.end();
  }

  override destroy(): void {
    this.release();
  }
}

/** RFC 9110 §6.4.1: no content in 204 and 304 answers, nor in any answer to HEAD. */
function mayHaveContent(status: number, method: string): boolean {
  return status !== 204 && status !== 304 && method !== 'HEAD';
}

/** http_status: every request gets `status` (with `body`); keep-alive is honoured. */
export class HttpStatusStage extends HttpFaultStage {
  protected answer(request: RequestSeen): { bytes: Buffer; close: boolean } {
    const status = this.attributes['status'] as number;
    const body = Buffer.from(this.attributes['body'] as string);
    const content = mayHaveContent(status, request.method);
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Status'}`];
    if (content && body.length > 0) lines.push('Content-Type: text/plain; charset=utf-8');
    if (status !== 204) lines.push(`Content-Length: ${body.length}`);
    if (request.close) lines.push('Connection: close');
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    return { bytes: content ? Buffer.concat([head, body]) : head, close: false };
  }
}

/** garbage: non-HTTP bytes, then the close: an SSH banner (a wrong port), or `bytes` random bytes. */
export class GarbageStage extends HttpFaultStage {
  protected answer(): { bytes: Buffer; close: boolean } {
    const size = this.attributes['bytes'] as number;
    if (size <= 0) return { bytes: Buffer.from(SSH_BANNER, 'latin1'), close: true };
    const bytes = randomBytes(size);
    // 0xff can start neither an HTTP status line nor a TLS record.
    bytes[0] = 0xff;
    return { bytes, close: true };
  }
}

/** huge_header: a 200 whose head is larger than `size` bytes, then the close. */
export class HugeHeaderStage extends HttpFaultStage {
  protected answer(): { bytes: Buffer; close: boolean } {
    return { bytes: hugeHead((this.attributes['size'] as number) + 1), close: true };
  }
}

/**
 * tls_reply: what a TLS server says to a plain HTTP request, a fatal alert record (RFC 8446 §5.1
 * record header: type 21 alert, legacy version 3.3, length 2; §6: level 2 fatal, then `alert`,
 * by default unexpected_message, which §5 requires for a record of an unknown type), then the close.
 */
export class TlsReplyStage extends HttpFaultStage {
  protected answer(): { bytes: Buffer; close: boolean } {
    return {
      bytes: Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, this.attributes['alert'] as number]),
      close: true,
    };
  }
}
