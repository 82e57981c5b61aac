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
    const failure = ex.failure;
    const down = ex.downstream;
    this.logger.info({
      msg: 'access',
      request_id: ex.requestId,
      client: down.client.clientAddress,
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
