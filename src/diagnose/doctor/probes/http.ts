/**
 * One HTTP/1.1 request on a raw socket (plain or TLS), read byte by byte so that what a gateway
 * would choke on is seen as it is: TLS records on a plain port, a head larger than the gateway's
 * buffer, garbage, silence. After a complete response the connection is kept idle for a while to
 * see whether the server closes it, and when.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { findHeadEnd, ParsedHead, parseResponseHead } from '../../../http1/index.js';
import { isTlsRecordStart } from '../../classify.js';
import type { Endpoint } from './endpoint.js';

export interface HttpProbeOptions {
  /** Speak TLS; the SNI name to send (undefined: none). */
  tls: { sni: string | undefined } | undefined;
  path: string;
  hostHeader: string;
  /** How long to wait for the response head once connected. */
  waitMs: number;
  /** Stop reading a head that has not ended after this many bytes. */
  maxHeadBytes: number;
  /** After a complete response, watch the idle connection this long for the server closing it; 0 = don't. */
  idleWatchMs: number;
}

export type HttpOutcome =
  /** A complete response head arrived. */
  | 'response'
  /** No (complete) head within waitMs. */
  | 'timeout'
  /** Closed without sending a byte. */
  | 'closed'
  /** Reset (or another socket error) before a complete head. */
  | 'error'
  /** The first bytes are a TLS record: a TLS port answering plain HTTP. */
  | 'tls_bytes'
  /** The head did not end within maxHeadBytes. */
  | 'too_large'
  /** The bytes are not an HTTP response. */
  | 'bad_response';

export interface HttpResult {
  outcome: HttpOutcome;
  /** From the request being written to the head (or the outcome). */
  ms: number;
  /** Bytes received before the outcome (for too_large: at least this many). */
  bytes: number;
  status?: number;
  statusLine?: string;
  headBytes?: number;
  /** `Keep-Alive: timeout=N` of the response, seconds. */
  keepAliveTimeoutS?: number;
  /** The response says the connection closes after it (Connection: close, or HTTP/1.0 without keep-alive). */
  closes?: boolean;
  serverHeader?: string;
  /** The first bytes of the body (up to 512), for recognising TLS servers' plain-HTTP answers. */
  bodyStart?: string;
  /** The first bytes received, printable, for evidence about garbage. */
  firstBytes?: string;
  /** Error code for outcome `error`, or the parser's reason for `bad_response`. */
  code?: string;
  /** The server closed the idle connection this long after the response; undefined when it did not within idleWatchMs. */
  idleCloseMs?: number;
  idleWatchedMs?: number;
}

const BODY_SAMPLE_BYTES = 512;
const BODY_WAIT_MS = 150;

export function httpProbe(endpoint: Endpoint, options: HttpProbeOptions): Promise<HttpResult> {
  return new Promise((resolve) => {
    const target = endpoint.kind === 'unix' ? { path: endpoint.path } : { host: endpoint.address, port: endpoint.port };
    const socket: net.Socket = options.tls
      ? tls.connect({
          ...target,
          servername: options.tls.sni !== undefined && net.isIP(options.tls.sni) === 0 ? options.tls.sni : undefined,
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect(target);
    let started = performance.now();
    let buffer: Buffer = Buffer.alloc(0);
    let headEnd = -1;
    let scanned = 0;
    let result: HttpResult | undefined;
    let bodyNeeded = -1;
    let chunked = false;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;

    const finish = (final: HttpResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve(final);
    };
    const fail = (outcome: HttpOutcome, extra: Partial<HttpResult> = {}): void =>
      finish({ outcome, ms: performance.now() - started, bytes: buffer.length, ...firstBytes(buffer), ...extra });

    const arm = (ms: number, onExpiry: () => void): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(onExpiry, ms);
    };
    // The connect itself is bounded by the same wait; the connect check reports its own failures.
    arm(options.waitMs, () => fail('timeout'));

    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      started = performance.now();
      arm(options.waitMs, () => fail('timeout'));
      socket.write(
        `GET ${options.path} HTTP/1.1\r\nHost: ${options.hostHeader}\r\nUser-Agent: gatewise-doctor\r\nAccept: */*\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      if (result !== undefined) return afterHead();
      if (isTlsRecordStart(buffer)) return fail('tls_bytes');
      headEnd = findHeadEnd(buffer, 0, Math.max(0, scanned - 3), buffer.length);
      scanned = buffer.length;
      if (headEnd === -1) {
        if (buffer.length > options.maxHeadBytes) fail('too_large');
        return;
      }
      const head = new ParsedHead();
      try {
        parseResponseHead(
          buffer,
          0,
          headEnd,
          { maxHeadBytes: headEnd + 1, maxRequestLineBytes: 65536, maxHeaders: 100_000 },
          head,
        );
      } catch (error) {
        return fail('bad_response', { code: (error as Error).message });
      }
      const ms = performance.now() - started;
      const noBody = head.statusCode === 204 || head.statusCode === 304 || head.statusCode < 200;
      bodyNeeded = noBody ? 0 : head.contentLength;
      chunked = !noBody && head.chunked;
      result = {
        outcome: 'response',
        ms,
        bytes: buffer.length,
        status: head.statusCode,
        statusLine: head.text.slice(head.startLineStart, head.startLineEnd).trim(),
        headBytes: headEnd,
        closes: head.connectionClose || (head.versionMinor === 0 && !head.connectionKeepAlive),
        ...(head.keepAliveTimeoutS >= 0 ? { keepAliveTimeoutS: head.keepAliveTimeoutS } : {}),
        ...serverHeader(head),
      };
      arm(BODY_WAIT_MS, () => done());
      afterHead();
    });
    socket.once('end', () => {
      if (result !== undefined) return done(true);
      fail(buffer.length === 0 ? 'closed' : 'bad_response', buffer.length === 0 ? {} : { code: 'incomplete head' });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (result !== undefined) return done(true);
      fail(buffer.length === 0 && error.code === undefined ? 'closed' : 'error', { code: error.code ?? error.message });
    });

    let idleSince = -1;
    /** Reads the body sample; once the framed body is complete, watches the idle connection. */
    function afterHead(): void {
      const body = buffer.subarray(headEnd);
      // RFC 9112 §7.1: a chunked body ends with the last-chunk and an empty trailer section.
      const complete = chunked
        ? body.subarray(-5).toString('latin1') === '0\r\n\r\n'
        : bodyNeeded >= 0 && body.length >= bodyNeeded;
      if (complete && idleSince < 0) {
        result!.bodyStart = body.subarray(0, BODY_SAMPLE_BYTES).toString('latin1');
        if (result!.closes || options.idleWatchMs <= 0) {
          done();
          return;
        }
        idleSince = performance.now();
        arm(options.idleWatchMs, () => done());
      } else if (!complete && !chunked && bodyNeeded < 0 && body.length >= BODY_SAMPLE_BYTES) done();
    }
    function done(closedByServer = false): void {
      const final = result!;
      if (final.bodyStart === undefined)
        final.bodyStart = buffer.subarray(headEnd).subarray(0, BODY_SAMPLE_BYTES).toString('latin1');
      if (idleSince >= 0) {
        const idleMs = performance.now() - idleSince;
        final.idleWatchedMs = idleMs;
        if (closedByServer) final.idleCloseMs = idleMs;
      }
      finish(final);
    }
  });
}

function serverHeader(head: ParsedHead): { serverHeader?: string } {
  for (let i = 0; i < head.count; i++) {
    if (head.names[i]!.toLowerCase() === 'server') return { serverHeader: head.values[i]! };
  }
  return {};
}

function firstBytes(buffer: Buffer): { firstBytes?: string } {
  if (buffer.length === 0) return {};
  const sample = buffer.subarray(0, 48);
  const printable = [...sample].every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127));
  return { firstBytes: printable ? JSON.stringify(sample.toString('latin1')) : `0x${sample.toString('hex')}` };
}
