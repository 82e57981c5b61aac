import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildConnector, Client, type Dispatcher } from 'undici';
import type { Expectations } from './expect.js';
import {
  type ActiveHealthConfig,
  MAX_PROBE_BODY_BYTES,
  type ProbeResult,
  type Prober,
  type ProbeTarget,
} from './types.js';
import { addressOf, errorDetail, type ProbeStage, timeoutDetail } from './words.js';

/**
 * An HTTP(S) request per probe on a connection of its own: a fresh undici Client per probe, never
 * the proxy's pools, so a probe tests exactly what a new proxied connection would meet (connect,
 * TLS handshake with the proxy's trust, response head and body) and leaves nothing open after it.
 */
export class HttpProber implements Prober {
  private readonly upstream: string;
  private readonly target: ProbeTarget;
  private readonly config: ActiveHealthConfig;
  private readonly expectations: Expectations;
  private readonly origin: string;
  private readonly port: number;
  private readonly address: string;
  private readonly label: string;
  private readonly headers: Record<string, string>;

  constructor(upstream: string, target: ProbeTarget, config: ActiveHealthConfig, expectations: Expectations) {
    this.upstream = upstream;
    this.target = target;
    this.config = config;
    this.expectations = expectations;
    const unix = target.kind === 'unix';
    this.port = unix ? 0 : config.port > 0 ? config.port : target.port;
    this.address = addressOf(target.host, this.port, target.socketPath, unix);
    this.origin = unix ? 'http://localhost' : `${target.kind}://${this.address}`;
    const method = config.method.toUpperCase();
    this.label = `${method} ${config.path}${config.port > 0 && !unix ? ` on port ${this.port}` : ''}`;
    this.headers = probeHeaders(config.headers, target.hostHeader ?? (unix ? 'localhost' : this.address));
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const started = performance.now();
    const box: { stage: ProbeStage } = { stage: 'connect' };
    const client = this.client(box);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.config.timeout);
    const stop = (): void => controller.abort();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    const result = (ok: boolean, reason: string): ProbeResult => ({
      ok,
      reason,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    try {
      const response = await client.request({
        path: this.config.path,
        method: this.config.method.toUpperCase() as Dispatcher.HttpMethod,
        headers: this.headers,
        signal: controller.signal,
        // Connection: close. Each probe opens its own connection, so a server that accepts no
        // new connections is not hidden behind a kept-alive one.
        reset: true,
      });
      box.stage = 'read_body';
      // Reading errors reach the probe through the body's iterator; once the probe has its answer
      // it tears the body down itself, and that abort is no one's failure.
      response.body.on('error', ignoreTornDownBody);
      const answered = `${this.label} answered ${response.statusCode}`;
      if (!this.expectations.status(response.statusCode)) {
        response.body.destroy();
        return result(false, `${answered} (expected ${this.expectations.statusText})`);
      }
      const body = await readBody(response.body);
      const bodyFault = this.expectations.needsBody ? this.expectations.body(body.text, body.truncated) : undefined;
      return bodyFault === undefined ? result(true, answered) : result(false, `${answered} but ${bodyFault}`);
    } catch (error) {
      if (timedOut) return result(false, `${this.label} ${timeoutDetail(this.config.timeout, box.stage)}`);
      if (signal.aborted) return result(false, `${this.label} cancelled: health checks stopped`);
      const unix = this.target.kind === 'unix';
      return result(false, `${this.label} failed: ${errorDetail(error, box.stage, this.upstream, this.address, unix)}`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      await client.destroy();
    }
  }

  private client(box: { stage: ProbeStage }): Client {
    const target = this.target;
    const https = target.kind === 'https';
    const connector = buildConnector({
      ...(target.kind === 'unix' ? { socketPath: target.socketPath } : {}),
      ...(https && target.tls !== undefined
        ? { ca: target.tls.ca, rejectUnauthorized: target.tls.rejectUnauthorized }
        : { rejectUnauthorized: true }),
      // The probe's own timer bounds the connect; this only keeps undici from giving up first.
      timeout: this.config.timeout + 1000,
      maxCachedSessions: 0,
    });
    // SNI is the configured server name only, as on proxied connections; undici would otherwise
    // derive it from the Host header.
    const servername = target.tls?.servername ?? '';
    const wrapped: buildConnector.connector = (options, callback) => {
      const socket = connector({ ...options, servername }, (error, connected) => {
        if (error !== null) {
          callback(error, null);
          return;
        }
        box.stage = 'read_head';
        callback(null, connected);
      }) as unknown as Socket | undefined;
      // A TLS socket reports the TCP connect before its handshake: from then on a failure is the handshake's.
      if (https) socket?.once('connect', () => box.stage === 'connect' && (box.stage = 'tls'));
    };
    return new Client(this.origin, {
      connect: wrapped,
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
    });
  }
}

function ignoreTornDownBody(): void {}

/** The configured headers with exactly one Host: a Host written for the check wins over the server's default. */
function probeHeaders(configured: Record<string, string>, defaultHost: string): Record<string, string> {
  const headers: Record<string, string> = {};
  let host = defaultHost;
  for (const [name, value] of Object.entries(configured)) {
    if (name.toLowerCase() === 'host') host = value;
    else headers[name] = value;
  }
  headers['host'] = host;
  return headers;
}

/** The first 64 KiB of the body as UTF-8; the rest is not read (the connection closes after the probe). */
async function readBody(body: Dispatcher.ResponseData['body']): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = MAX_PROBE_BODY_BYTES - bytes;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      bytes += room;
      truncated = true;
      break;
    }
    chunks.push(chunk);
    bytes += chunk.length;
  }
  if (truncated) body.destroy();
  return { text: Buffer.concat(chunks, bytes).toString('utf8'), truncated };
}
