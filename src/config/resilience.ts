import { z } from 'zod';
import { duration, headerValue, integer, method, oneOf, pathPrefix, settableHeaderName, size, text } from './fields.js';
import {
  fraction,
  jsonPath,
  nameOrServerError,
  percent,
  scalarText,
  serverErrorStatus,
  statusRange,
} from './resilience-fields.js';

/**
 * The resilience part of an upstream's schema: health checks, retries, circuit breaker, limits,
 * slow start and DNS refresh, plus the per-route rate limit. Types come from here through z.infer,
 * like the rest of the configuration.
 */

export const healthCheckTypes = ['http', 'tcp'] as const;
export const healthStates = ['healthy', 'unhealthy'] as const;

export const expectJsonSchema = z.strictObject({
  path: jsonPath()
    .prefault('')
    .describe("Dot path into the JSON body (`status`, `checks.db`; a number indexes a list); '' = the whole body."),
  equals: scalarText()
    .prefault('')
    .describe('Text the value found there must equal (a JSON string without its quotes, other values as JSON).'),
});

export const activeHealthSchema = z.strictObject({
  type: oneOf(healthCheckTypes)
    .prefault('http')
    .describe('http: request path and check the response; tcp: only connect.'),
  path: pathPrefix()
    .prefault('/health')
    .describe('Path requested; the response must match expect_status, expect_body and expect_json.'),
  method: method().prefault('GET').describe('Method of the check request (uppercase).'),
  headers: z
    .record(settableHeaderName(), headerValue())
    .prefault({})
    .describe('Extra headers sent with the check request (Host included).'),
  interval: duration().prefault('2s').describe('Time between two checks of one server.'),
  timeout: duration().prefault('1s').describe('A check without a response in this time fails.'),
  healthy_after: integer(1).prefault(2).describe('Consecutive passes that bring a server back.'),
  unhealthy_after: integer(1).prefault(2).describe('Consecutive failures that take a server out.'),
  expect_status: z
    .array(statusRange())
    .min(1, { error: 'expect_status needs at least one status or range' })
    .prefault(['200-399'])
    .describe('Statuses that pass: codes (200) or ranges ("200-299"), within 100-599.'),
  expect_body: text().prefault('').describe("Text the response body must contain; '' = no check."),
  expect_json: expectJsonSchema
    .optional()
    .describe('Read the body as JSON and compare one value in it; omitted = no check.'),
  jitter: fraction(50)
    .prefault('10%')
    .describe(
      'Random spread of each interval (0-50% of it), so that checks from many gateways do not arrive together.',
    ),
  initial: oneOf(healthStates)
    .prefault('healthy')
    .describe('State of a server until its first checks decide (at start and when the server is added).'),
  port: integer(0, 65535).prefault(0).describe("Port the check connects to; 0 = the server's own port."),
});

export const latencyEjectionSchema = z.strictObject({
  p99_above: duration()
    .prefault('2s')
    .describe('Eject a server whose 99th percentile response time over window is above this.'),
  min_requests: integer(1).prefault(20).describe('Requests a server needs within window before its p99 is judged.'),
  window: duration().prefault('30s').describe('Sliding window the p99 is taken over.'),
});

export const passiveHealthSchema = z.strictObject({
  failures: integer(1).prefault(3).describe('Consecutive failures that eject a server.'),
  window: duration().prefault('10s').describe('Failures older than this do not count.'),
  eject_for: duration()
    .prefault('30s')
    .describe('How long a first ejection lasts; each repeat ejection multiplies it (×2, ×3, ...) up to max_eject_for.'),
  max_eject_for: duration().prefault('5m').describe('Cap of the growing ejection time.'),
  max_ejected_percent: percent(100)
    .prefault(50)
    .describe("Never eject more than this share of an upstream's servers at once (0-100%)."),
  statuses: z
    .array(serverErrorStatus())
    .prefault([502, 503, 504])
    .describe('Response statuses that count as failures of the server, besides failed connections and exchanges.'),
  latency: latencyEjectionSchema.optional().describe('Eject servers that stay slow; omitted = latency never ejects.'),
});

export const healthSchema = z.strictObject({
  active: activeHealthSchema.optional().describe('Probe each server periodically; omitted = no active checks.'),
  passive: passiveHealthSchema.prefault({}).describe('Eject servers whose real requests fail.'),
  panic_threshold: fraction(100)
    .prefault('50%')
    .describe(
      "When fewer than this share of the primary servers are healthy, load spreads over all of them, healthy or not (Envoy's panic mode); 0% = never.",
    ),
});

/** Failures (besides 5xx statuses) that `retries.on` can name. */
export const retryFailureNames = ['connect_failure', 'refused', 'reset', 'timeout', 'tls', 'protocol'] as const;

export const retryBackoffSchema = z.strictObject({
  base: duration(0).prefault('25ms').describe('Wait before the first retry; doubled for each later one.'),
  max: duration(0).prefault('250ms').describe('Longest wait between two tries.'),
});

export const retryBudgetSchema = z.strictObject({
  percent: percent(100).prefault(20).describe('Retries allowed as a share of the requests of the last 10 s (0-100%).'),
  min_per_second: integer(0)
    .prefault(3)
    .describe('Retries per second allowed on top of percent, so that light traffic can still retry.'),
});

export const retriesSchema = z.strictObject({
  attempts: integer(1).prefault(2).describe('Tries per request, the first included (1 = never retry).'),
  on: z
    .array(nameOrServerError(retryFailureNames))
    .prefault(['connect_failure', 'refused', 'reset', 'timeout', 502, 503, 504])
    .describe(
      'What is retried: connect_failure (no connection: timeout, unreachable, DNS), refused, reset (closed before a response), timeout (no response head in time), tls (handshake or certificate), protocol (invalid response), or a response status 500-599.',
    ),
  per_try_timeout: duration(0)
    .prefault(0)
    .describe('Time one try may take until its response head; 0 = off (the read timeout still applies).'),
  deadline: duration(0).prefault(0).describe('Time all tries of one request may take together; 0 = off.'),
  backoff: retryBackoffSchema.prefault({}).describe('Wait between tries: exponential, with full jitter.'),
  body_limit: size()
    .prefault('64k')
    .describe('Largest request body kept for replay; a request with a larger body is not retried once it was sent.'),
  budget: retryBudgetSchema
    .prefault({})
    .describe('Caps retries so that they cannot multiply an overload: percent of the requests, plus min_per_second.'),
});

export const breakerSchema = z.strictObject({
  failure_ratio: fraction(100, { aboveZero: true })
    .prefault('50%')
    .describe('Share of failed requests within window that opens the breaker.'),
  min_requests: integer(1).prefault(20).describe('Requests needed within window before failure_ratio is judged.'),
  window: duration().prefault('10s').describe('Sliding window over which requests and failures are counted.'),
  consecutive_failures: integer(0)
    .prefault(5)
    .describe('Consecutive failures that open the breaker whatever the ratio; 0 = off.'),
  open_for: duration()
    .prefault('5s')
    .describe('How long an open breaker refuses requests before trying again; grows on repeated opening.'),
  max_open_for: duration().prefault('60s').describe('Cap of the growing open time.'),
  half_open_requests: integer(1)
    .prefault(3)
    .describe('Trial requests let through after open_for; their outcome closes or reopens the breaker.'),
});

export const upstreamLimitsSchema = z.strictObject({
  max_inflight: integer(0).prefault(0).describe('Requests in flight to this upstream at once; 0 = unlimited.'),
  max_connections_per_server: integer(0)
    .prefault(0)
    .describe('Connections open to one server at once, idle ones included; 0 = unlimited.'),
  queue: integer(0)
    .prefault(0)
    .describe('Requests that wait (first in, first out) when max_inflight is reached; 0 = refuse at once with 503.'),
  queue_timeout: duration().prefault('1s').describe('Longest wait in the queue before a 503.'),
  retry_after: duration(0)
    .prefault('1s')
    .describe('Retry-After sent with a 503 connection_limit_reached (whole seconds, rounded up; RFC 9110 §10.2.3).'),
});

export const dnsSchema = z.strictObject({
  refresh: duration()
    .prefault('30s')
    .describe("How often hostnames in server URLs are resolved again (sooner when the answer's TTL is shorter)."),
});

/** Where a rate limit's budget lives: this node alone, or one budget for every node (through Redis). */
export const rateLimitScopes = ['local', 'cluster'] as const;

export const rateLimitSchema = z.strictObject({
  rate: integer(1)
    .prefault(100)
    .describe('Requests allowed per `per` from one client address (tokens added to its bucket).'),
  per: duration().prefault('1s').describe('The period rate is counted over.'),
  burst: integer(0)
    .prefault(0)
    .describe('Bucket size: requests a client may send at once after a quiet time; 0 = same as rate.'),
  scope: oneOf(rateLimitScopes)
    .optional()
    .describe(
      'local: each node counts on its own; cluster: one budget shared by every node through cluster.redis (each node falls back to its own local limit while Redis is unreachable); omitted = local.',
    ),
});

export type HealthConfig = z.infer<typeof healthSchema>;
export type HealthCheckType = (typeof healthCheckTypes)[number];
export type HealthStateName = (typeof healthStates)[number];
export type ActiveHealthConfig = z.infer<typeof activeHealthSchema>;
export type ExpectJsonConfig = z.infer<typeof expectJsonSchema>;
export type PassiveHealthConfig = z.infer<typeof passiveHealthSchema>;
export type LatencyEjectionConfig = z.infer<typeof latencyEjectionSchema>;
export type RetryFailureName = (typeof retryFailureNames)[number];
/** One entry of `retries.on`: a failure name or a 5xx status. */
export type RetryOn = RetryFailureName | number;
export type RetriesConfig = z.infer<typeof retriesSchema>;
export type RetryBackoffConfig = z.infer<typeof retryBackoffSchema>;
export type RetryBudgetConfig = z.infer<typeof retryBudgetSchema>;
export type BreakerConfig = z.infer<typeof breakerSchema>;
export type LimitsUpstreamConfig = z.infer<typeof upstreamLimitsSchema>;
export type DnsConfig = z.infer<typeof dnsSchema>;
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;
export type RateLimitScope = (typeof rateLimitScopes)[number];
