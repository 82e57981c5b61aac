/**
 * The checks every request passes before it may go upstream, whatever protocol the client speaks:
 * CONNECT refused, loop detection through Via, routing, the route's rate limit and the body limit.
 * A refusal is answered through the exchange; the caller gets the route only when all pass.
 */
import { type Failure, failureOf } from '../diagnose/index.js';
import type { Exchange } from './exchange.js';
import { hostWithoutPort } from './router.js';
import type { CompiledRoute, Runtime } from './runtime.js';

export function admitRequest(
  ex: Exchange,
  rt: Runtime,
  viaHops: number,
  contentLength: number,
  clientAddress: string,
  nowMs: number,
): CompiledRoute | undefined {
  if (ex.method === 'CONNECT') {
    ex.reject(
      failureOf(
        'http_request_error',
        'other',
        'GW_CONNECT_UNSUPPORTED',
        'CONNECT is not supported: this is a reverse proxy',
      ),
    );
    return undefined;
  }
  if (viaHops >= rt.maxHops) {
    ex.reject(
      failureOf(
        'proxy_loop_detected',
        'wrong_upstream_address',
        'GW_LOOP',
        `request already passed through "${rt.pseudonym}" (Via)`,
      ),
    );
    return undefined;
  }
  const route = rt.router.match(hostWithoutPort(ex.host), ex.path, ex.method);
  if (route === undefined) {
    ex.reject({
      ...failureOf('destination_not_found', 'other', 'GW_NO_ROUTE', 'no route matches this request'),
      status: 404,
    });
    return undefined;
  }
  const limiter = route.rateLimiter;
  if (limiter !== null && !limiter.take(clientAddress, nowMs)) {
    ex.reject(rateLimited(limiter.retryAfterMs(clientAddress, nowMs)));
    return undefined;
  }
  if (rt.maxBodyBytes > 0 && contentLength > rt.maxBodyBytes) {
    ex.reject(bodyTooLarge());
    return undefined;
  }
  return route;
}

/** 413 for a body over limits.max_body_bytes (declared, or counted while it streams). */
export function bodyTooLarge(): Failure {
  const f = failureOf(
    'http_request_error',
    'buffer_or_limit_config',
    'GW_BODY_TOO_LARGE',
    'request body is larger than limits.max_body_bytes',
  );
  return { ...f, status: 413 };
}

/** 429 for a client over its route's rate limit (the wire type RFC 9209 has for "too much"). */
export function rateLimited(retryAfterMs: number): Failure {
  const f = failureOf(
    'connection_limit_reached',
    'overload_or_exhaustion',
    'GW_RATE_LIMITED',
    'this client exceeded the rate limit of the route',
    {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    },
  );
  return { ...f, status: 429 };
}

/** How many entries of one Via field value name this gateway (RFC 9110 §7.6.3: `1.1 pseudonym`). */
export function viaHopsIn(value: string, pseudonym: string): number {
  if (!value.includes(pseudonym)) return 0;
  let hops = 0;
  for (const entry of value.split(',')) {
    if (entry.trim().split(/[ \t]+/)[1] === pseudonym) hops++;
  }
  return hops;
}
