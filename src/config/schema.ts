import { z } from 'zod';
import { alertsSchema } from './alerts.js';
import { clusterSchema } from './cluster.js';
import {
  cidr,
  duration,
  expected,
  filePath,
  flag,
  headerName,
  headerNameOrEmpty,
  headerValue,
  hostPattern,
  hostPort,
  integer,
  method,
  oneOf,
  pathOrEmpty,
  pathPrefix,
  serverUrl,
  settableHeaderName,
  size,
  text,
} from './fields.js';
import {
  breakerSchema,
  dnsSchema,
  healthSchema,
  rateLimitSchema,
  retriesSchema,
  upstreamLimitsSchema,
} from './resilience.js';
import { runSchema } from './run.js';

/**
 * The configuration schema: the one source of the configuration's types (z.infer), its defaults
 * (written as a user would write them, through `prefault`) and the descriptions that generate the
 * config reference. Objects are strict so that a misspelt key is reported, never ignored.
 */

const listenTlsSchema = z
  .strictObject({
    cert: filePath().describe('PEM certificate chain file (relative paths are relative to the config file).'),
    key: filePath().describe('PEM private key file for the certificate.'),
  })
  .describe('Serve HTTPS on this address; HTTP/2 is offered through ALPN unless http2 is false.');

export const listenSchema = z.strictObject({
  address: hostPort().describe(
    'Address to accept clients on: host:port, [::1]:8080 for IPv6, port 0 for any free port.',
  ),
  tls: listenTlsSchema.optional(),
  http2: flag().prefault(true).describe('Offer HTTP/2 through ALPN (only meaningful with tls).'),
});

export const adminSchema = z.strictObject({
  address: hostPort().prefault('127.0.0.1:9090').describe('Address of the admin API and dashboard.'),
  token: text()
    .optional()
    .describe(
      `Bearer token the admin API requires; mandatory when address is not loopback (use \${GATEWISE_ADMIN_TOKEN}).`,
    ),
});

export const limitsSchema = z.strictObject({
  max_header_bytes: size()
    .prefault('16k')
    .describe('Largest request head (request line and all header fields); larger gets 431.'),
  max_request_line_bytes: size().prefault('8k').describe('Longest request line; longer gets 414.'),
  max_headers: integer(1).prefault(100).describe('Most header fields in one request; more gets 431.'),
  headers_timeout: duration()
    .prefault('10s')
    .describe('Time a client has to send a complete request head (defends against slowloris).'),
  request_timeout: duration().prefault('60s').describe('Time a client has to send a whole request, body included.'),
  idle_timeout: duration()
    .prefault('60s')
    .describe('How long a keep-alive client connection may sit idle between requests.'),
  max_requests_per_connection: integer(0)
    .prefault(0)
    .describe('Requests served on one client connection before it is closed; 0 = unlimited.'),
  max_body_bytes: size().prefault(0).describe('Largest request body; larger gets 413; 0 = unlimited.'),
});

export const shutdownSchema = z.strictObject({
  grace: duration(0).prefault('10s').describe('How long in-flight requests may finish after a stop signal.'),
});

export const errorsSchema = z.strictObject({
  verbose: flag()
    .prefault(false)
    .describe('Show upstream names, addresses and failure details in error responses (they are always logged).'),
});

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const logSchema = z.strictObject({
  level: oneOf(logLevels).prefault('info').describe('Lowest level written.'),
  format: oneOf(['json', 'pretty']).prefault('json').describe('json: one object per line; pretty: for people.'),
  access: flag().prefault(true).describe('Write one access record per request.'),
  file: text().prefault('').describe("File to append the log to; '' = standard output."),
});

export const proxySchema = z.strictObject({
  via: headerName().prefault('gatewise').describe('Pseudonym used in Via (RFC 9110 §7.6.3) and to detect loops.'),
  request_id_header: headerName()
    .prefault('x-request-id')
    .describe('Header carrying the request id; kept when the client sends one.'),
  max_hops: integer(1)
    .prefault(1)
    .describe('A request whose Via already names this gateway this many times is refused with 508.'),
});

const upstreamTlsSchema = z
  .strictObject({
    ca: filePath()
      .optional()
      .describe('PEM file of the CAs trusted for the upstream certificate; default: the system CAs.'),
    servername: text().optional().describe('SNI name and the name the certificate must match; default: the URL host.'),
    insecure: flag().prefault(false).describe('Skip certificate verification (testing only).'),
  })
  .describe('TLS settings for https:// servers.');

export const serverSchema = z.strictObject({
  url: serverUrl().describe('http://host:port, https://host:port or unix:/absolute/path.sock.'),
  weight: integer(1, 1000).prefault(1).describe('Share of traffic relative to the other servers (1..1000).'),
  backup: flag().prefault(false).describe('Only used when no primary server is available.'),
  tls: upstreamTlsSchema
    .optional()
    .describe('Per-server TLS settings, overriding the upstream-level ones (https only).'),
  run: runSchema
    .optional()
    .describe('Managed server: Gatewise starts this process, sends it traffic once ready, restarts it.'),
});

/** A DNS name (RFC 1035 §2.3.1, with the underscores of SRV service labels, RFC 2782): dot-separated labels. */
const DNS_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export const discoverSchema = z.strictObject({
  srv: z
    .string({ error: expected('a DNS name') })
    .regex(DNS_NAME, {
      error: (issue) =>
        `expected an SRV name like _http._tcp.api.default.svc.cluster.local, got ${JSON.stringify(issue.input)}`,
    })
    .describe(
      'SRV name looked up (RFC 2782); each record is a server at target:port, the lowest priority primaries, higher ones backups; a headless Kubernetes Service publishes _PORTNAME._tcp.SERVICE.NAMESPACE.svc.cluster.local.',
    ),
  scheme: oneOf(['http', 'https'])
    .prefault('http')
    .describe('How the servers found are spoken to; https uses the upstream tls settings.'),
  interval: duration(100)
    .prefault('30s')
    .describe(
      "How often the SRV name is looked up again (Node's resolver gives no SRV TTL); each target's addresses follow dns.refresh and their own TTL. A failed lookup keeps the servers last found.",
    ),
});

export const balanceNames = ['round_robin', 'least_conn', 'random_two', 'ip_hash', 'header_hash'] as const;

export const timeoutsSchema = z.strictObject({
  connect: duration().prefault('5s').describe('Time to establish a connection (and TLS) to a server.'),
  send: duration().prefault('60s').describe('Time allowed between two successful writes of the request to a server.'),
  read: duration().prefault('60s').describe('Time allowed for the response head, and between two reads of the body.'),
});

export const keepaliveSchema = z.strictObject({
  max_idle: integer(0).prefault(64).describe('Idle connections kept per server; 0 = no reuse.'),
  idle_timeout: duration().prefault('60s').describe('Idle connections older than this are closed.'),
  max_requests: integer(0)
    .prefault(0)
    .describe(
      'Requests sent on one connection before it is retired; 0 = unlimited (as Envoy; retiring connections means new connects under load, which showed as tail latency).',
    ),
});

export const websocketSchema = z.strictObject({
  idle_timeout: duration()
    .prefault('1h')
    .describe('A WebSocket tunnel with no traffic either way for this long is closed.'),
});

export const upstreamSchema = z.strictObject({
  servers: z
    .array(serverSchema)
    .prefault([])
    .describe(
      'The servers; required unless discover finds them (with discover, listed servers are kept beside those found).',
    ),
  discover: discoverSchema
    .optional()
    .describe(
      'Find the servers in DNS SRV records, looked up again on an interval; a server that goes away gets no new requests, those in flight on it finish.',
    ),
  tls: upstreamTlsSchema.optional().describe('TLS settings for all https:// servers of this upstream.'),
  balance: oneOf(balanceNames).prefault('round_robin').describe('How a server is picked.'),
  hash_header: headerNameOrEmpty().prefault('').describe('Request header hashed by balance: header_hash.'),
  timeouts: timeoutsSchema.prefault({}).describe('Per-try timeouts (like proxy_*_timeout in nginx).'),
  keepalive: keepaliveSchema.prefault({}).describe('Connection pool of each server.'),
  retries: retriesSchema
    .prefault({})
    .describe('Retrying on another server; unsafe requests only when no byte reached the upstream.'),
  max_response_header_bytes: size().prefault('32k').describe('Largest response head accepted from a server.'),
  websocket: websocketSchema.prefault({}).describe('WebSocket tunnels.'),
  health: healthSchema.prefault({}).describe('Health checking.'),
  breaker: breakerSchema
    .optional()
    .describe('Circuit breaker: stop sending to what keeps failing, then probe it; omitted = no breaker.'),
  limits: upstreamLimitsSchema.prefault({}).describe('Concurrency limits and the queue in front of them.'),
  slow_start: duration(0)
    .prefault(0)
    .describe('A server back to health ramps its weight up over this time; 0 = off (full weight at once).'),
  dns: dnsSchema.prefault({}).describe('Resolution of hostnames in server URLs.'),
});

export const routeMatchSchema = z.strictObject({
  host: hostPattern()
    .optional()
    .describe('Exact host or one leading wildcard label (*.example.com); omitted = any host.'),
  path: pathPrefix().prefault('/').describe('Path prefix; the longest matching prefix wins.'),
  methods: z.array(method()).optional().describe('Methods matched (uppercase); omitted = all.'),
});

export const headerRulesSchema = z.strictObject({
  set: z.record(settableHeaderName(), headerValue()).prefault({}).describe('Headers replaced (or added when absent).'),
  add: z.record(settableHeaderName(), headerValue()).prefault({}).describe('Headers appended to any existing ones.'),
  remove: z.array(headerName()).prefault([]).describe('Headers removed.'),
});

export const routeSchema = z.strictObject({
  match: routeMatchSchema
    .prefault({})
    .describe('Which requests this route takes: by host, then longest path prefix, then method.'),
  upstream: text('an upstream name').describe('Name of the upstream requests are sent to.'),
  strip_prefix: flag().prefault(false).describe('Remove the matched path prefix before forwarding.'),
  rewrite_prefix: pathOrEmpty()
    .prefault('')
    .describe("Replace the matched path prefix with this before forwarding; '' = keep."),
  request_headers: headerRulesSchema.prefault({}).describe('Header rules applied to the request sent upstream.'),
  response_headers: headerRulesSchema.prefault({}).describe('Header rules applied to the response sent to the client.'),
  rate_limit: rateLimitSchema
    .optional()
    .describe('Token bucket per client address; a request over it gets 429; omitted = no limit.'),
});

const upstreamName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
  error: (issue) => `bad upstream name ${JSON.stringify(issue.input)} (letters, digits, "_", "-" and "." only)`,
});

export const configSchema = z.strictObject({
  listen: z
    .array(listenSchema)
    .min(1, { error: 'at least one listen address is required' })
    .describe('Client-facing listeners.'),
  admin: adminSchema.prefault({}).describe('Admin API and dashboard; loopback only unless a token is set.'),
  limits: limitsSchema.prefault({}).describe('Limits on client requests, for every listener.'),
  shutdown: shutdownSchema.prefault({}).describe('Graceful shutdown.'),
  errors: errorsSchema.prefault({}).describe('Error responses generated by the gateway.'),
  log: logSchema.prefault({}).describe('Logging.'),
  trust_proxies: z
    .array(cidr())
    .prefault([])
    .describe('Addresses or CIDRs whose X-Forwarded-* and Forwarded values are kept.'),
  proxy: proxySchema.prefault({}).describe('Proxy identity and loop detection.'),
  upstreams: z
    .record(upstreamName, upstreamSchema)
    .refine((upstreams) => Object.keys(upstreams).length > 0, { error: 'at least one upstream is required' })
    .describe('Upstream groups by name.'),
  routes: z
    .array(routeSchema)
    .min(1, { error: 'at least one route is required' })
    .describe('Routes, matched by host, longest path prefix, then method.'),
  alerts: alertsSchema.prefault({}).describe('Alert rules and notifiers.'),
  cluster: clusterSchema
    .optional()
    .describe("Several nodes: shared config from etcd, shared state in Redis (a node's own file)."),
});

export type Config = z.infer<typeof configSchema>;
export type ListenConfig = z.infer<typeof listenSchema>;
export type ListenTlsConfig = z.infer<typeof listenTlsSchema>;
export type AdminConfig = z.infer<typeof adminSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
export type ShutdownConfig = z.infer<typeof shutdownSchema>;
export type ErrorsConfig = z.infer<typeof errorsSchema>;
export type LogConfig = z.infer<typeof logSchema>;
export type LogLevel = (typeof logLevels)[number];
export type ProxyConfig = z.infer<typeof proxySchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type DiscoverConfig = z.infer<typeof discoverSchema>;
export type UpstreamTlsConfig = z.infer<typeof upstreamTlsSchema>;
export type BalanceName = (typeof balanceNames)[number];
export type TimeoutsConfig = z.infer<typeof timeoutsSchema>;
export type KeepaliveConfig = z.infer<typeof keepaliveSchema>;
export type WebsocketConfig = z.infer<typeof websocketSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type RouteMatchConfig = z.infer<typeof routeMatchSchema>;
export type HeaderRulesConfig = z.infer<typeof headerRulesSchema>;
