/**
 * Wire-level helpers for forwarding tests: a persistent raw connection that reads replies one at a
 * time (keep-alive and pipelining), a chunked-reply decoder, and small wrappers over node:http for
 * streaming bodies through the gateway.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { patternBody } from '../../src/drill/upstreams.js';

export interface WireReply {
  status: number;
  /** Status line, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  /** Header lines in order, as [name, value] with the name as sent. */
  rawHeaders: Array<[string, string]>;
  /** Lowercased name → values in order. */
  headers: Map<string, string[]>;
  /** Body bytes with the transfer framing removed. */
  body: Buffer;
  /** The body bytes exactly as they came on the wire (chunk framing included). */
  wireBody: Buffer;
  /** Trailer fields of a chunked body, as [name, value]. */
  trailers: Array<[string, string]>;
  /** The body ran until the connection closed. */
  closeDelimited: boolean;
}

export function header(reply: WireReply, name: string): string | undefined {
  const values = reply.headers.get(name.toLowerCase());
  return values === undefined ? undefined : values.join(', ');
}

/**
 * A raw client connection that keeps its socket open and parses replies as they arrive, so a test
 * can send several requests (or several in one write) and read each reply in turn.
 */
export class RawConnection {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;
  private errorCode: string | undefined;
  private wake: (() => void) | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.errorCode = e.code;
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.notify();
        resolve();
      });
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  get error(): string | undefined {
    return this.errorCode;
  }

  /** Bytes received and not yet consumed by readReply. */
  get unread(): Buffer {
    return this.buffer;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private waitForData(deadline: number, what: string): Promise<void> {
    if (this.ended) return Promise.reject(new Error(`connection closed while waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const ms = deadline - Date.now();
      const timer = setTimeout(
        () => {
          this.wake = null;
          reject(
            new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.buffer.toString('latin1', 0, 300))}`),
          );
        },
        Math.max(0, ms),
      );
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Waits for `n` raw bytes (e.g. through a tunnel) and consumes them. */
  async take(n: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < n) await this.waitForData(deadline, `${n} bytes`);
    const out = Buffer.from(this.buffer.subarray(0, n));
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Waits until the peer closes the connection (or the timeout passes: rejects). */
  async waitClose(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      await this.waitForData(deadline, 'the connection to close').catch((e: Error) => {
        if (!this.ended) throw e;
      });
    }
  }

  /**
   * Reads one reply. `method` decides whether a body follows (HEAD: none). 1xx replies are returned
   * like any other (the caller reads again for the final one).
   */
  async readReply(options: { method?: string; timeoutMs?: number } = {}): Promise<WireReply> {
    const deadline = Date.now() + (options.timeoutMs ?? 10000);
    let headEnd = -1;
    for (;;) {
      headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd >= 0) break;
      await this.waitForData(deadline, 'a reply head');
    }
    const headText = this.buffer.toString('latin1', 0, headEnd);
    let pos = headEnd + 4;
    const lines = headText.split('\r\n');
    const statusLine = lines[0]!;
    const status = Number(statusLine.split(' ')[1]);
    const rawHeaders: Array<[string, string]> = [];
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      rawHeaders.push([name, value]);
      const key = name.toLowerCase();
      headers.set(key, [...(headers.get(key) ?? []), value]);
    }
    const reply: WireReply = {
      status,
      statusLine,
      rawHeaders,
      headers,
      body: Buffer.alloc(0),
      wireBody: Buffer.alloc(0),
      trailers: [],
      closeDelimited: false,
    };
    const noBody = (status >= 100 && status < 200) || status === 204 || status === 304 || options.method === 'HEAD';
    const te = header(reply, 'transfer-encoding');
    const cl = header(reply, 'content-length');
    if (noBody) {
      this.buffer = this.buffer.subarray(pos);
      return reply;
    }
    if (te !== undefined && /chunked\s*$/i.test(te)) {
      const bodyStart = pos;
      const parts: Buffer[] = [];
      for (;;) {
        let lineEnd = this.buffer.indexOf('\r\n', pos);
        while (lineEnd < 0) {
          await this.waitForData(deadline, 'a chunk size');
          lineEnd = this.buffer.indexOf('\r\n', pos);
        }
        const size = Number.parseInt(this.buffer.toString('latin1', pos, lineEnd).split(';')[0]!, 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size line at ${pos}`);
        pos = lineEnd + 2;
        if (size === 0) {
          // Trailer fields then an empty line.
          for (;;) {
            let end = this.buffer.indexOf('\r\n', pos);
            while (end < 0) {
              await this.waitForData(deadline, 'the trailer section');
              end = this.buffer.indexOf('\r\n', pos);
            }
            const line = this.buffer.toString('latin1', pos, end);
            pos = end + 2;
            if (line === '') break;
            const colon = line.indexOf(':');
            reply.trailers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
          }
          break;
        }
        while (this.buffer.length < pos + size + 2) await this.waitForData(deadline, 'chunk data');
        parts.push(this.buffer.subarray(pos, pos + size));
        pos += size + 2;
      }
      reply.body = Buffer.concat(parts);
      reply.wireBody = Buffer.from(this.buffer.subarray(bodyStart, pos));
      this.buffer = this.buffer.subarray(pos);
      return reply;
    }
    if (cl !== undefined) {
      const n = Number(cl);
      while (this.buffer.length < pos + n) await this.waitForData(deadline, `${n} body bytes`);
      reply.body = Buffer.from(this.buffer.subarray(pos, pos + n));
      reply.wireBody = reply.body;
      this.buffer = this.buffer.subarray(pos + n);
      return reply;
    }
    // Close-delimited (RFC 9112 §6.3 rule 8).
    reply.closeDelimited = true;
    await this.waitClose(Math.max(0, deadline - Date.now()));
    reply.body = Buffer.from(this.buffer.subarray(pos));
    reply.wireBody = reply.body;
    this.buffer = Buffer.alloc(0);
    return reply;
  }
}

/** Opens a raw connection that is destroyed when the test ends. */
export async function openRaw(
  t: { after(fn: () => void | Promise<void>): void },
  port: number,
): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  t.after(() => c.destroy());
  return c;
}

/** Sends one request on a fresh connection and reads its reply. */
export async function rawRequest(
  port: number,
  request: string | Buffer,
  options: { method?: string; timeoutMs?: number } = {},
): Promise<WireReply & { connection: RawConnection }> {
  const c = await RawConnection.open(port);
  try {
    c.write(request);
    const reply = await c.readReply(options);
    return { ...reply, connection: c };
  } finally {
    c.destroy();
  }
}

export interface EchoBody {
  server: string | null;
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string | string[]>;
  rawHeaders: string[];
  body: { bytes: number; sha256: string };
}

export function parseEcho(reply: { body: Buffer }): EchoBody {
  return JSON.parse(reply.body.toString('utf8')) as EchoBody;
}

/** Lowercased names of the fields the upstream received, from /echo rawHeaders. */
export function echoNames(echo: EchoBody): string[] {
  const out: string[] = [];
  for (let i = 0; i < echo.rawHeaders.length; i += 2) out.push(echo.rawHeaders[i]!.toLowerCase());
  return out;
}

/** All values of one field the upstream received, in order, from /echo rawHeaders. */
export function echoValues(echo: EchoBody, name: string): string[] {
  const out: string[] = [];
  const lower = name.toLowerCase();
  for (let i = 0; i < echo.rawHeaders.length; i += 2) {
    if (echo.rawHeaders[i]!.toLowerCase() === lower) out.push(echo.rawHeaders[i + 1]!);
  }
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of the first `length` pattern bytes, computed without holding them all at once. */
export function patternSha256(length: number): string {
  const hash = createHash('sha256');
  const step = 1024 * 1024;
  for (let offset = 0; offset < length; offset += step) {
    // Periods of 64 bytes align with a 1 MiB step, so each slice continues the pattern.
    hash.update(patternBody(Math.min(step, length - offset)));
  }
  return hash.digest('hex');
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** One request through node:http (no agent reuse), with an optional body source. */
export function httpRequest(
  port: number,
  options: http.RequestOptions & { body?: Buffer | ((req: http.ClientRequest) => void); timeoutMs?: number },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
        });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error('request timed out in the test client'));
    }, options.timeoutMs ?? 30000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const body = options.body;
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

/** Writes `total` pattern bytes to a request in 64 KiB pieces, honouring backpressure, then ends it. */
export function writePattern(req: http.ClientRequest, total: number): void {
  const piece = patternBody(64 * 1024);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(piece.length, total - sent);
      // 64 KiB is a whole number of 64-byte periods, so every piece continues the pattern.
      const ok = req.write(n === piece.length ? piece : piece.subarray(0, n));
      sent += n;
      if (!ok) {
        req.once('drain', pump);
        return;
      }
    }
    req.end();
  };
  pump();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
