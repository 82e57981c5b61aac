import { GatewayError } from '../errors.js';

/**
 * The codes of failures the engine itself detects (timeouts, premature closes, bad responses) or
 * decides (no route, no server, loop, limit). The value is the default message; when the engine
 * keeps it and passes a `cause`, the cause's message is what the failure detail quotes.
 */
export const UPSTREAM_ERROR_CODES = {
  GW_CONNECT_TIMEOUT: 'connect() did not complete within the connect timeout',
  GW_SEND_TIMEOUT: 'the request could not be sent within the send timeout',
  GW_READ_TIMEOUT: 'no data from upstream within the read timeout',
  GW_DNS_TIMEOUT: 'name resolution did not complete in time',
  GW_UPSTREAM_CLOSED: 'upstream closed the connection before any response byte',
  GW_UPSTREAM_RESET: 'upstream reset the connection before the response head',
  GW_BAD_RESPONSE: 'the response is not valid HTTP/1.1',
  GW_RESPONSE_HEAD_TOO_LARGE: 'upstream response head exceeds the size limit',
  GW_BODY_INCOMPLETE: 'upstream response body ended before its declared end',
  GW_PLAIN_HTTP_TO_TLS: 'upstream answered that a plain HTTP request was sent to its TLS port',
  GW_NO_ROUTE: 'no route matches the request',
  GW_NO_SERVER: 'every server is down, ejected or behind an open circuit breaker',
  GW_LOOP: 'the request already passed through this gateway',
  GW_LIMIT: 'concurrency limit and queue full, or the queue wait timed out',
  GW_BAD_REQUEST: 'malformed request head',
  GW_DENIED: 'denied by the gateway configuration',
  GW_MISCONFIGURED: 'the configuration cannot serve this request',
  GW_INTERNAL: 'unexpected failure inside the gateway',
} as const;

export type UpstreamErrorCode = keyof typeof UPSTREAM_ERROR_CODES;

export interface UpstreamErrorOptions {
  /** The underlying error, e.g. the HttpParseError behind GW_BAD_RESPONSE. */
  cause?: unknown;
  /** The limit that expired, for timeout codes; named in the failure detail. */
  timeoutMs?: number;
  /** `Retry-After` seconds for GW_LIMIT / GW_NO_SERVER when the engine knows better than the default. */
  retryAfterSeconds?: number;
}

/** A failure on the upstream path that the engine raises itself; `classify()` turns it into a Failure. */
export class UpstreamError extends GatewayError {
  declare readonly code: UpstreamErrorCode;
  readonly timeoutMs: number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: UpstreamErrorCode, message?: string, options: UpstreamErrorOptions = {}) {
    super(
      code,
      message ?? UPSTREAM_ERROR_CODES[code],
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.timeoutMs = options.timeoutMs;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
