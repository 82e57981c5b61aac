/**
 * The exchange observer that writes logs: one access record per request, one error record per upstream
 * failure (every attempt, so retried failures are visible too).
 */
import type { Logger } from 'pino';
import type { Failure } from '../diagnose/index.js';
import type { Exchange, ExchangeObserver } from '../proxy/index.js';

export class LogObserver implements ExchangeObserver {
  constructor(
    private readonly logger: Logger,
    private readonly access: () => boolean,
    private readonly writeLine?: ((line: string) => void) | undefined,
  ) {}

  upstreamFailed(ex: Exchange, failure: Failure): void {
    this.logger.error({
      msg: 'upstream failure',
      request_id: ex.requestId,
      route: ex.route?.label,
      upstream: failure.upstream,
      server: failure.server,
      attempt: failure.attempt,
      phase: failure.phase,
      code: failure.code,
      proxy_status: failure.type,
      cause: failure.cause,
      detail: failure.detail,
      hint: failure.hint,
      reused_connection: ex.reused,
      keepalive_race_suspected: failure.reused,
    });
  }

  exchangeDone(ex: Exchange): void {
    if (!this.access()) return;
    if (this.writeLine !== undefined) {
      this.writeLine(accessLine(ex));
      return;
    }
    const failure = ex.failure;
    this.logger.info({
      msg: 'access',
      request_id: ex.requestId,
      client: ex.downstream.client.clientAddress,
      method: ex.method,
      host: ex.host,
      path: ex.path,
      status: ex.status,
      bytes: ex.bytesOut,
      duration_ms: round(performance.now() - ex.startedAt),
      route: ex.route?.label,
      upstream: ex.upstream?.name,
      server: ex.server?.address,
      attempts: ex.attempt,
      upstream_connect_ms: ex.connectMs < 0 ? undefined : round(ex.connectMs),
      upstream_head_ms: ex.headMs < 0 ? undefined : round(ex.headMs),
      proxy_status: failure?.type,
      cause: failure?.cause,
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Characters that JSON strings must escape (RFC 8259 §7). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

let cachedMs = 0;
let cachedIso = '';

/** ISO time, formatted once per millisecond however many records share it. */
function isoNow(): string {
  const now = Date.now();
  if (now !== cachedMs) {
    cachedMs = now;
    cachedIso = new Date(now).toISOString();
  }
  return cachedIso;
}

/**
 * The access record as one NDJSON line in pino's format (level 30 = info), built with one template
 * instead of an object serialised per request; fields that do not apply are left out, as pino
 * leaves out undefined ones.
 */
export function accessLine(ex: Exchange): string {
  const failure = ex.failure;
  let line = `{"level":30,"time":"${isoNow()}","msg":"access","request_id":${str(ex.requestId)},"client":${str(ex.downstream.client.clientAddress)},"method":${str(ex.method)},"host":${str(ex.host)},"path":${str(ex.path)},"status":${ex.status},"bytes":${ex.bytesOut},"duration_ms":${round(performance.now() - ex.startedAt)}`;
  if (ex.route !== null) line += `,"route":${str(ex.route.label)}`;
  if (ex.upstream !== null) line += `,"upstream":${str(ex.upstream.name)}`;
  if (ex.server !== null) line += `,"server":${str(ex.server.address)}`;
  line += `,"attempts":${ex.attempt}`;
  if (ex.connectMs >= 0) line += `,"upstream_connect_ms":${round(ex.connectMs)}`;
  if (ex.headMs >= 0) line += `,"upstream_head_ms":${round(ex.headMs)}`;
  if (failure !== null) line += `,"proxy_status":"${failure.type}","cause":"${failure.cause}"`;
  return `${line}}\n`;
}
