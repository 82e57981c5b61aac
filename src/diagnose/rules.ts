import type { Phase } from './failure.js';
import type { ErrorType, RootCause } from './taxonomy.js';

/**
 * The classification table. A row is keyed by an error code (exact, or a `*` pattern for families
 * such as OpenSSL's alerts) and may be refined by conditions on the context; for one code the first
 * row whose conditions all hold wins, so refinements come before the code's unconditional row.
 * Adding a case is adding a row.
 *
 * `detail` is a template worded like nginx's error log. Placeholders:
 *   {op}      the failing operation of the phase, e.g. "connect()"
 *   {during}  the phase, e.g. "while reading response header from upstream"
 *   {server}  the server address ("127.0.0.1:5001", "unix:/run/app.sock")
 *   {host}    the host name being resolved
 *   {code}    the error code
 *   {reason}  the error's own reason or message
 *   {timeout} the limit that expired ("2000 ms", or "the configured time")
 */
export interface RuleCondition {
  /** The failure happened in one of these phases. */
  readonly phase?: readonly Phase[];
  /** The connection was (true) or was not (false) a reused keep-alive connection. */
  readonly reused?: boolean;
  /** The one-off TLS probe found a TLS server where plain HTTP was expected. */
  readonly serverSpeaksTls?: boolean;
  /** The first bytes from the upstream are a TLS record header. */
  readonly tlsBytes?: boolean;
  /** The server is a unix socket. */
  readonly unixPath?: boolean;
  /** The failing system call, e.g. 'bind'. */
  readonly syscall?: string;
}

export interface ClassifyRule {
  readonly code: string;
  readonly when?: RuleCondition;
  readonly type: ErrorType;
  readonly cause: RootCause;
  /** Overrides the type's status (the no-route case answers 404). */
  readonly status?: number;
  /** The phase to assume when the caller gives none (failures Gatewise decides itself). */
  readonly phase?: Phase;
  readonly detail: string;
}

const AFTER_HEAD: readonly Phase[] = ['read_body'];
const ON_THE_WIRE: readonly Phase[] = ['tls', 'send', 'read_head', 'read_body'];

/** The certificate verification codes Node reports (OpenSSL's X509_V_ERR_* names, plus Node's own). */
const CERTIFICATE_CODES = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'UNABLE_TO_GET_CRL',
  'CRL_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'ERR_SSL_EE_KEY_TOO_SMALL',
  'ERR_SSL_CA_MD_TOO_WEAK',
] as const;

const HOSTNAME_CODES = ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_CERT_ALTNAME_FORMAT', 'HOSTNAME_MISMATCH'] as const;

/** OpenSSL's answers when the peer does not speak TLS at all: the upstream is plain HTTP. */
const NOT_TLS_CODES = [
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_UNKNOWN_PROTOCOL',
] as const;

/** Resolver answers that the name does not exist or cannot be resolved (getaddrinfo and c-ares codes). */
const DNS_ERROR_CODES = [
  'ENOTFOUND',
  'EAI_NONAME',
  'EAI_FAIL',
  'EAI_NODATA',
  'ENODATA',
  'ESERVFAIL',
  'EREFUSED',
  'EBADRESP',
  'EFORMERR',
  'ENONAME',
  'EBADNAME',
] as const;

function each(
  codes: readonly string[],
  row: Omit<ClassifyRule, 'code' | 'detail'>,
  detail: (code: string) => string,
): ClassifyRule[] {
  return codes.map((code) => ({ ...row, code, detail: detail(code) }));
}

const UNREACHABLE_WORDS = {
  ENETUNREACH: 'network is unreachable',
  EHOSTUNREACH: 'no route to host',
  ENETDOWN: 'network is down',
  EHOSTDOWN: 'host is down',
} as const;

const EXHAUSTION_WORDS = {
  EMFILE: 'too many open files in the gateway process',
  ENFILE: 'too many open files on the gateway host',
  EADDRNOTAVAIL: 'no free local port: ephemeral ports exhausted',
  EADDRINUSE: 'local address already in use: ephemeral ports exhausted',
  ENOBUFS: 'no buffer space available',
  ENOMEM: 'out of memory',
} as const;

export const CLASSIFY_RULES: readonly ClassifyRule[] = [
  // --- connect() and the socket: node:net errno codes -------------------------------------------
  {
    code: 'ECONNREFUSED',
    when: { phase: ['dns'] },
    type: 'dns_error',
    cause: 'dns',
    detail: 'the DNS server refused the query for "{host}" (ECONNREFUSED) {during}',
  },
  {
    code: 'ECONNREFUSED',
    type: 'connection_refused',
    cause: 'backend_down',
    detail: '{op} to {server} failed (ECONNREFUSED: connection refused) {during}',
  },
  {
    code: 'ENOENT',
    when: { phase: ['dns'] },
    type: 'dns_error',
    cause: 'dns',
    detail: 'host "{host}" could not be resolved (ENOENT) {during}',
  },
  {
    code: 'ENOENT',
    type: 'destination_not_found',
    cause: 'wrong_upstream_address',
    detail: '{op} to {server} failed (ENOENT: no such file or directory) {during}',
  },
  {
    code: 'ENOTDIR',
    type: 'destination_not_found',
    cause: 'wrong_upstream_address',
    detail: '{op} to {server} failed (ENOTDIR: a path component is not a directory) {during}',
  },
  // The kernel or an LSM (SELinux, AppArmor) refused the connect(): nginx's classic
  // "(13: Permission denied) while connecting to upstream".
  {
    code: 'EACCES',
    type: 'connection_refused',
    cause: 'permission_or_selinux',
    detail: '{op} to {server} failed (EACCES: permission denied) {during}',
  },
  {
    code: 'EPERM',
    type: 'connection_refused',
    cause: 'permission_or_selinux',
    detail: '{op} to {server} failed (EPERM: operation not permitted) {during}',
  },
  // A unix socket answers EAGAIN when its listen backlog is full (the php-fpm 502).
  {
    code: 'EAGAIN',
    when: { unixPath: true },
    type: 'connection_refused',
    cause: 'overload_or_exhaustion',
    detail: '{op} to {server} failed (EAGAIN: listen backlog full) {during}',
  },
  {
    code: 'EAGAIN',
    type: 'proxy_internal_error',
    cause: 'overload_or_exhaustion',
    detail: '{op} to {server} failed (EAGAIN: resource temporarily unavailable) {during}',
  },
  {
    code: 'ETIMEDOUT',
    when: { phase: ['dns'] },
    type: 'dns_timeout',
    cause: 'dns',
    detail: 'resolving "{host}" timed out (ETIMEDOUT) {during}',
  },
  // ETIMEDOUT on an established connection is the kernel giving up on retransmissions: the peer
  // vanished (host down, state dropped by a firewall), not a slow answer.
  {
    code: 'ETIMEDOUT',
    when: { phase: ON_THE_WIRE },
    type: 'connection_terminated',
    cause: 'firewall_or_network',
    detail: '{op} failed (ETIMEDOUT: peer stopped acknowledging) {during}',
  },
  {
    code: 'ETIMEDOUT',
    type: 'connection_timeout',
    cause: 'firewall_or_network',
    detail: '{op} to {server} failed (ETIMEDOUT: connection timed out) {during}',
  },
  ...Object.entries(UNREACHABLE_WORDS).map(
    ([code, words]): ClassifyRule => ({
      code,
      type: 'destination_ip_unroutable',
      cause: 'firewall_or_network',
      detail: `{op} to {server} failed (${code}: ${words}) {during}`,
    }),
  ),
  {
    code: 'ECONNRESET',
    when: { phase: ['tls'] },
    type: 'tls_protocol_error',
    cause: 'tls_mismatch',
    detail: '{op} failed (ECONNRESET: peer closed the connection during the TLS handshake) {during}',
  },
  ...each(
    ['ECONNRESET', 'EPIPE', 'ECONNABORTED'],
    { when: { reused: true }, type: 'connection_terminated', cause: 'keepalive_mismatch' },
    (code) => `{op} failed (${code}) on a reused keep-alive connection {during}`,
  ),
  ...each(
    ['ECONNRESET', 'EPIPE', 'ECONNABORTED'],
    { when: { phase: AFTER_HEAD }, type: 'http_response_incomplete', cause: 'crash_or_oom' },
    (code) => `{op} failed (${code}: connection reset by peer) {during}`,
  ),
  ...each(['ECONNRESET', 'EPIPE', 'ECONNABORTED'], { type: 'connection_terminated', cause: 'crash_or_oom' }, (code) =>
    code === 'EPIPE'
      ? '{op} failed (EPIPE: broken pipe) {during}'
      : `{op} failed (${code}: connection reset by peer) {during}`,
  ),
  {
    code: 'EPROTO',
    when: { phase: ['tls'] },
    type: 'tls_protocol_error',
    cause: 'tls_mismatch',
    detail: '{op} failed (EPROTO: {reason}) {during}',
  },
  {
    code: 'EPROTO',
    type: 'connection_terminated',
    cause: 'protocol_error',
    detail: '{op} failed (EPROTO: protocol error) {during}',
  },
  // bind() to a configured local address that is not on this host: a gateway configuration fault.
  {
    code: 'EADDRNOTAVAIL',
    when: { syscall: 'bind' },
    type: 'proxy_configuration_error',
    cause: 'other',
    detail: 'bind() failed (EADDRNOTAVAIL: the local address is not on this host) {during}',
  },
  ...Object.entries(EXHAUSTION_WORDS).map(
    ([code, words]): ClassifyRule => ({
      code,
      type: 'proxy_internal_error',
      cause: 'overload_or_exhaustion',
      detail: `{op} to {server} failed (${code}: ${words}) {during}`,
    }),
  ),

  // --- name resolution ---------------------------------------------------------------------------
  ...each(
    DNS_ERROR_CODES,
    { type: 'dns_error', cause: 'dns' },
    (code) => `host "{host}" could not be resolved (${code}) {during}`,
  ),
  // getaddrinfo(3): EAI_AGAIN is a temporary failure, in practice the resolver not answering in
  // time, so it is a timeout; c-ares reports the same as ETIMEOUT.
  ...each(
    ['EAI_AGAIN', 'ETIMEOUT'],
    { type: 'dns_timeout', cause: 'dns' },
    (code) => `resolving "{host}" timed out (${code}: temporary failure in name resolution) {during}`,
  ),

  // --- TLS ---------------------------------------------------------------------------------------
  ...each(
    CERTIFICATE_CODES,
    { type: 'tls_certificate_error', cause: 'tls_config' },
    (code) => `upstream SSL certificate verify error: (${code}: {reason}) {during}`,
  ),
  ...each(
    HOSTNAME_CODES,
    { type: 'tls_certificate_error', cause: 'tls_config' },
    (code) => `upstream SSL certificate does not match the server name (${code}: {reason}) {during}`,
  ),
  ...each(
    NOT_TLS_CODES,
    { type: 'tls_protocol_error', cause: 'tls_mismatch' },
    (code) => `{op} failed (${code}: {reason}; the upstream does not speak TLS) {during}`,
  ),
  {
    code: 'ERR_TLS_HANDSHAKE_TIMEOUT',
    type: 'connection_timeout',
    cause: 'slow_backend',
    detail: 'SSL handshake with {server} timed out (ERR_TLS_HANDSHAKE_TIMEOUT) {during}',
  },
  {
    code: 'ERR_SSL_*ALERT*',
    type: 'tls_alert_received',
    cause: 'tls_config',
    detail: 'upstream sent TLS alert "{reason}" ({code}) {during}',
  },
  {
    code: 'ERR_SSL_*',
    type: 'tls_protocol_error',
    cause: 'tls_config',
    detail: '{op} failed ({code}: {reason}) {during}',
  },
  {
    code: 'ERR_TLS_*',
    type: 'tls_protocol_error',
    cause: 'tls_config',
    detail: '{op} failed ({code}: {reason}) {during}',
  },

  // --- the engine's own codes (UpstreamError) -----------------------------------------------------
  {
    code: 'GW_CONNECT_TIMEOUT',
    when: { unixPath: true },
    type: 'connection_timeout',
    cause: 'overload_or_exhaustion',
    detail: 'upstream timed out (GW_CONNECT_TIMEOUT: {server} did not accept within {timeout}) {during}',
  },
  {
    code: 'GW_CONNECT_TIMEOUT',
    type: 'connection_timeout',
    cause: 'firewall_or_network',
    phase: 'connect',
    detail: 'upstream timed out (GW_CONNECT_TIMEOUT: no answer from {server} within {timeout}) {during}',
  },
  {
    code: 'GW_SEND_TIMEOUT',
    type: 'connection_write_timeout',
    cause: 'slow_backend',
    phase: 'send',
    detail: 'upstream timed out (GW_SEND_TIMEOUT: request not accepted within {timeout}) {during}',
  },
  {
    code: 'GW_READ_TIMEOUT',
    when: { phase: AFTER_HEAD },
    type: 'http_response_incomplete',
    cause: 'slow_backend',
    detail: 'upstream timed out (GW_READ_TIMEOUT: no body data within {timeout}) {during}',
  },
  {
    code: 'GW_READ_TIMEOUT',
    type: 'connection_read_timeout',
    cause: 'slow_backend',
    phase: 'read_head',
    detail: 'upstream timed out (GW_READ_TIMEOUT: no response header within {timeout}) {during}',
  },
  {
    code: 'GW_DNS_TIMEOUT',
    type: 'dns_timeout',
    cause: 'dns',
    phase: 'dns',
    detail: 'resolving "{host}" timed out (GW_DNS_TIMEOUT: no answer within {timeout}) {during}',
  },
  ...each(
    ['GW_UPSTREAM_CLOSED', 'GW_UPSTREAM_RESET'],
    { when: { tlsBytes: true }, type: 'connection_terminated', cause: 'tls_mismatch' },
    (code) =>
      `upstream sent a TLS record and closed the connection (${code}): {server} speaks TLS, not plain HTTP {during}`,
  ),
  ...each(
    ['GW_UPSTREAM_CLOSED', 'GW_UPSTREAM_RESET'],
    { when: { serverSpeaksTls: true }, type: 'connection_terminated', cause: 'tls_mismatch' },
    (code) =>
      `upstream prematurely closed connection (${code}): {server} answers a TLS handshake, so it expects https:// {during}`,
  ),
  {
    code: 'GW_UPSTREAM_CLOSED',
    when: { reused: true },
    type: 'connection_terminated',
    cause: 'keepalive_mismatch',
    detail: 'upstream prematurely closed a reused keep-alive connection (GW_UPSTREAM_CLOSED) {during}',
  },
  {
    code: 'GW_UPSTREAM_CLOSED',
    type: 'connection_terminated',
    cause: 'crash_or_oom',
    phase: 'read_head',
    detail: 'upstream prematurely closed connection (GW_UPSTREAM_CLOSED) {during}',
  },
  {
    code: 'GW_UPSTREAM_RESET',
    when: { reused: true },
    type: 'connection_terminated',
    cause: 'keepalive_mismatch',
    detail: '{op} failed (GW_UPSTREAM_RESET: connection reset by peer) on a reused keep-alive connection {during}',
  },
  {
    code: 'GW_UPSTREAM_RESET',
    type: 'connection_terminated',
    cause: 'crash_or_oom',
    phase: 'read_head',
    detail: '{op} failed (GW_UPSTREAM_RESET: connection reset by peer) {during}',
  },
  {
    code: 'GW_BAD_RESPONSE',
    when: { tlsBytes: true },
    type: 'http_protocol_error',
    cause: 'tls_mismatch',
    detail: 'upstream sent a TLS record instead of an HTTP response (GW_BAD_RESPONSE): {server} speaks TLS {during}',
  },
  {
    code: 'GW_BAD_RESPONSE',
    type: 'http_protocol_error',
    cause: 'protocol_error',
    phase: 'read_head',
    detail: 'upstream sent an invalid response (GW_BAD_RESPONSE: {reason}) {during}',
  },
  {
    code: 'GW_RESPONSE_HEAD_TOO_LARGE',
    type: 'http_response_header_section_size',
    cause: 'buffer_or_limit_config',
    phase: 'read_head',
    detail: 'upstream sent too big header (GW_RESPONSE_HEAD_TOO_LARGE: {reason}) {during}',
  },
  {
    code: 'GW_BODY_INCOMPLETE',
    type: 'http_response_incomplete',
    cause: 'crash_or_oom',
    phase: 'read_body',
    detail: 'upstream prematurely closed connection (GW_BODY_INCOMPLETE: {reason}) {during}',
  },
  // The upstream is a TLS server that answered our plain request with its well-known 400.
  {
    code: 'GW_PLAIN_HTTP_TO_TLS',
    type: 'tls_protocol_error',
    cause: 'tls_mismatch',
    phase: 'read_head',
    detail:
      'upstream answered 400 "plain HTTP request sent to HTTPS port" (GW_PLAIN_HTTP_TO_TLS): {server} expects https:// {during}',
  },
  {
    code: 'GW_NO_ROUTE',
    type: 'destination_not_found',
    cause: 'other',
    status: 404,
    phase: 'route',
    detail: '{reason} (GW_NO_ROUTE)',
  },
  {
    code: 'GW_NO_SERVER',
    type: 'destination_unavailable',
    cause: 'backend_down',
    phase: 'select',
    detail: 'no live upstreams (GW_NO_SERVER: {reason}) {during}',
  },
  {
    code: 'GW_LOOP',
    type: 'proxy_loop_detected',
    cause: 'wrong_upstream_address',
    phase: 'route',
    detail: 'proxy loop detected (GW_LOOP: {reason}) {during}',
  },
  {
    code: 'GW_LIMIT',
    type: 'connection_limit_reached',
    cause: 'overload_or_exhaustion',
    phase: 'queue',
    detail: 'limit reached (GW_LIMIT: {reason}) {during}',
  },
  {
    code: 'GW_BAD_REQUEST',
    type: 'http_request_error',
    cause: 'protocol_error',
    phase: 'route',
    detail: 'client sent an invalid request (GW_BAD_REQUEST: {reason})',
  },
  {
    code: 'GW_DENIED',
    type: 'http_request_denied',
    cause: 'other',
    phase: 'route',
    detail: 'request denied (GW_DENIED: {reason})',
  },
  {
    code: 'GW_MISCONFIGURED',
    type: 'proxy_configuration_error',
    cause: 'other',
    phase: 'internal',
    detail: 'configuration error (GW_MISCONFIGURED: {reason}) {during}',
  },
  {
    code: 'GW_INTERNAL',
    type: 'proxy_internal_error',
    cause: 'other',
    phase: 'internal',
    detail: 'internal error (GW_INTERNAL: {reason}) {during}',
  },

  // --- undici and llhttp (node:http) codes, for errors raised through those clients -------------
  {
    code: 'UND_ERR_CONNECT_TIMEOUT',
    type: 'connection_timeout',
    cause: 'firewall_or_network',
    detail: 'upstream timed out (UND_ERR_CONNECT_TIMEOUT: no answer from {server}) {during}',
  },
  {
    code: 'UND_ERR_HEADERS_TIMEOUT',
    type: 'connection_read_timeout',
    cause: 'slow_backend',
    detail: 'upstream timed out (UND_ERR_HEADERS_TIMEOUT) {during}',
  },
  {
    code: 'UND_ERR_BODY_TIMEOUT',
    type: 'http_response_incomplete',
    cause: 'slow_backend',
    detail: 'upstream timed out (UND_ERR_BODY_TIMEOUT) {during}',
  },
  {
    code: 'UND_ERR_SOCKET',
    when: { reused: true },
    type: 'connection_terminated',
    cause: 'keepalive_mismatch',
    detail: 'upstream closed a reused keep-alive connection (UND_ERR_SOCKET: {reason}) {during}',
  },
  {
    code: 'UND_ERR_SOCKET',
    when: { phase: AFTER_HEAD },
    type: 'http_response_incomplete',
    cause: 'crash_or_oom',
    detail: 'upstream prematurely closed connection (UND_ERR_SOCKET: {reason}) {during}',
  },
  {
    code: 'UND_ERR_SOCKET',
    type: 'connection_terminated',
    cause: 'crash_or_oom',
    detail: 'upstream prematurely closed connection (UND_ERR_SOCKET: {reason}) {during}',
  },
  ...each(
    ['UND_ERR_HEADERS_OVERFLOW', 'HPE_HEADER_OVERFLOW'],
    { type: 'http_response_header_section_size', cause: 'buffer_or_limit_config' },
    (code) => `upstream sent too big header (${code}) {during}`,
  ),
  {
    code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
    type: 'http_response_incomplete',
    cause: 'protocol_error',
    detail: 'upstream body does not match its Content-Length (UND_ERR_RES_CONTENT_LENGTH_MISMATCH) {during}',
  },
  {
    code: 'HPE_*',
    type: 'http_protocol_error',
    cause: 'protocol_error',
    detail: 'upstream sent an invalid response ({code}: {reason}) {during}',
  },
];

/**
 * Recognisers for errors whose code is missing or generic ('EPROTO') but whose OpenSSL reason is
 * unambiguous; the canonical code they map to selects the rows. Tested against the reason only
 * (the `reason` property, or the reason field of an OpenSSL message), in order.
 */
export const REASON_PATTERNS: readonly { readonly pattern: RegExp; readonly code: string }[] = [
  { pattern: /wrong version number/i, code: 'ERR_SSL_WRONG_VERSION_NUMBER' },
  { pattern: /packet length too long/i, code: 'ERR_SSL_PACKET_LENGTH_TOO_LONG' },
  { pattern: /^http request$/i, code: 'ERR_SSL_HTTP_REQUEST' },
  { pattern: /unknown protocol/i, code: 'ERR_SSL_UNKNOWN_PROTOCOL' },
  { pattern: /\b(?:sslv3|tlsv1|tlsv13) alert\b/i, code: 'ERR_SSL_TLSV1_ALERT' },
];
