/**
 * The failure taxonomy: the one source of truth for error types, their statuses and titles, and the
 * root causes with the hint an on-call engineer acts on. Everything else (classifier, error
 * responses, logs, metrics, alerts, dashboard, doctor, drill) reads these tables and restates nothing.
 *
 * Error type names are the proxy error types registered by RFC 9209 §2.3 and are used verbatim on the
 * wire (`Proxy-Status: gatewise; error=<type>`). Statuses follow the RFC's recommendations except
 * where noted on the row.
 */

export interface ErrorTypeInfo {
  /** The status of the response Gatewise generates for this type. */
  readonly status: number;
  /** Short, stable summary; the RFC 9457 `title`. */
  readonly title: string;
  /** What happened, in words safe to show any client: no addresses, codes or upstream names. */
  readonly explanation: string;
  /** `Retry-After` seconds for the 503 types (RFC 9110 §10.2.3), when the failure carries none. */
  readonly retryAfterSeconds?: number;
}

export const ERROR_TYPES = {
  dns_error: {
    status: 502,
    title: 'DNS lookup failed',
    explanation: 'The gateway could not find the address of the upstream service.',
  },
  dns_timeout: {
    status: 504,
    title: 'DNS lookup timed out',
    explanation: 'Looking up the address of the upstream service took too long.',
  },
  connection_refused: {
    status: 502,
    title: 'Connection refused',
    explanation: 'The upstream service refused the connection.',
  },
  // RFC 9209 recommends 500; a missing unix socket is an upstream that is not there, so 502 like
  // nginx. The no-route case is answered 404 (its classification row sets the status).
  destination_not_found: {
    status: 502,
    title: 'Destination not found',
    explanation: 'The upstream service could not be found where the gateway expects it.',
  },
  destination_ip_unroutable: {
    status: 502,
    title: 'Destination unreachable',
    explanation: 'The network path to the upstream service is unavailable.',
  },
  connection_timeout: {
    status: 504,
    title: 'Connection timed out',
    explanation: 'Connecting to the upstream service took too long.',
  },
  connection_terminated: {
    status: 502,
    title: 'Connection closed by upstream',
    explanation: 'The upstream service closed the connection before sending a complete response.',
  },
  connection_read_timeout: {
    status: 504,
    title: 'Upstream response timed out',
    explanation: 'The upstream service did not start its response in time.',
  },
  connection_write_timeout: {
    status: 504,
    title: 'Sending to upstream timed out',
    explanation: 'The upstream service did not accept the request in time.',
  },
  tls_protocol_error: {
    status: 502,
    title: 'TLS handshake failed',
    explanation: 'A secure connection to the upstream service could not be established.',
  },
  tls_certificate_error: {
    status: 502,
    title: 'Upstream certificate rejected',
    explanation: 'The certificate presented by the upstream service was not accepted.',
  },
  tls_alert_received: {
    status: 502,
    title: 'TLS alert from upstream',
    explanation: 'The upstream service rejected the secure connection.',
  },
  http_protocol_error: {
    status: 502,
    title: 'Invalid response from upstream',
    explanation: 'The upstream service sent a response that is not valid HTTP.',
  },
  http_response_header_section_size: {
    status: 502,
    title: 'Upstream response header too large',
    explanation: 'The upstream service sent a response header larger than the gateway allows.',
  },
  // Only ever logged for a response already under way: the client connection is aborted so a cut
  // body is never passed off as complete (RFC 9112 §8).
  http_response_incomplete: {
    status: 502,
    title: 'Upstream response incomplete',
    explanation: 'The upstream service stopped before its response was complete.',
  },
  destination_unavailable: {
    status: 503,
    title: 'No healthy upstream',
    explanation: 'No upstream server is currently available to handle the request.',
    retryAfterSeconds: 5,
  },
  connection_limit_reached: {
    status: 503,
    title: 'Gateway at capacity',
    explanation: 'The gateway is handling as many requests as it allows; try again shortly.',
    retryAfterSeconds: 1,
  },
  // RFC 9209 recommends 502; 508 Loop Detected (RFC 5842 §7.2) names the problem exactly.
  proxy_loop_detected: {
    status: 508,
    title: 'Proxy loop detected',
    explanation: 'The request already passed through this gateway; forwarding it again would loop.',
  },
  proxy_configuration_error: {
    status: 500,
    title: 'Gateway configuration error',
    explanation: 'The gateway is not configured to handle this request correctly.',
  },
  proxy_internal_error: {
    status: 500,
    title: 'Gateway internal error',
    explanation: 'The gateway failed while handling the request.',
  },
  http_request_error: {
    status: 400,
    title: 'Bad request',
    explanation: 'The request is not valid HTTP and cannot be forwarded.',
  },
  http_request_denied: {
    status: 403,
    title: 'Request denied',
    explanation: 'The gateway is configured not to forward this request.',
  },
} as const satisfies Record<string, ErrorTypeInfo>;

export type ErrorType = keyof typeof ERROR_TYPES;

export interface RootCauseInfo {
  /** One line an on-call engineer can act on. */
  readonly hint: string;
}

/** The likely root cause named on top of the wire type; `explain`, `doctor`, logs and metrics use these names. */
export const ROOT_CAUSES = {
  backend_down: {
    hint: 'Nothing accepts connections at the server address: start the backend and check it listens on the configured host and port (ss -ltnp).',
  },
  wrong_upstream_address: {
    hint: 'The configured address points to the wrong place: compare the server url (host, port or unix socket path) with where the backend really listens, and make sure it does not point back at the gateway.',
  },
  firewall_or_network: {
    hint: 'Packets to the server are dropped or have no route: check firewalls and security groups on both hosts, routes, and that the host is up (nc -vz HOST PORT from the gateway host).',
  },
  slow_backend: {
    hint: 'The backend took too long: look for slow queries, blocked workers or GC pauses in its logs, or raise timeouts.read / timeouts.send if the slowness is expected.',
  },
  tls_mismatch: {
    hint: 'Scheme and port disagree: an https:// server url points at a plain-HTTP port or an http:// url at a TLS port; make the url scheme match what the backend listens for.',
  },
  tls_config: {
    hint: 'The TLS handshake failed on configuration: check the certificate chain, expiry and name (openssl s_client -connect HOST:PORT -servername NAME), the trusted CA, and the TLS versions both sides allow.',
  },
  crash_or_oom: {
    hint: 'The backend dropped the connection mid-request: check its logs and exit status for a crash, and dmesg or the cgroup memory.events for an OOM kill.',
  },
  dns: {
    hint: 'The upstream host name did not resolve: check it for typos, check /etc/resolv.conf and that the resolver answers (getent hosts NAME).',
  },
  keepalive_mismatch: {
    hint: "The backend closed an idle keep-alive connection as the gateway reused it: keep the gateway's upstream idle timeout below the backend's keep-alive timeout (Node's default is 5 s).",
  },
  buffer_or_limit_config: {
    hint: 'A size limit was exceeded, usually a response head grown by large cookies or many headers: raise the header size limit or trim what the backend sends.',
  },
  permission_or_selinux: {
    hint: "The operating system denied the connection: check the unix socket's owner and mode against the gateway's user, and SELinux or AppArmor denials (ausearch -m avc; setsebool -P httpd_can_network_connect 1).",
  },
  overload_or_exhaustion: {
    hint: "A resource ran out (concurrency limit, file descriptors, local ports, listen backlog): check ulimit -n, ss -s, the backend's backlog and workers, then add capacity or shed load.",
  },
  protocol_error: {
    hint: 'Something spoke malformed HTTP: capture the raw bytes (curl -v --raw, tcpdump) and check the port really serves HTTP/1.1.',
  },
  other: {
    hint: 'No known pattern: read the detail and code in the gateway log for this request id; if the gateway itself failed, report that log line.',
  },
} as const satisfies Record<string, RootCauseInfo>;

export type RootCause = keyof typeof ROOT_CAUSES;

export function isErrorType(value: string): value is ErrorType {
  return Object.hasOwn(ERROR_TYPES, value);
}

export function isRootCause(value: string): value is RootCause {
  return Object.hasOwn(ROOT_CAUSES, value);
}
