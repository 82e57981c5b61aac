/**
 * Error texts of Go's net and net/http packages, which Traefik and Caddy log for failed upstream
 * round trips: "dial tcp 10.0.0.5:8080: connect: connection refused", "dial tcp: lookup api on
 * 127.0.0.11:53: no such host", "read tcp 10.0.0.1:4711->10.0.0.5:8080: read: connection reset by
 * peer", "net/http: timeout awaiting response headers", "tls: failed to verify certificate: x509:
 * ...", "malformed HTTP response \"\x15\x03\x01\"", "http: server gave HTTP response to HTTPS
 * client", "net/http: server response headers exceeded 1048576 bytes; aborted", "EOF".
 */
import { errnoCodeIn } from './errno.js';
import type { Finding } from './types.js';

type Body = Omit<Finding, 'source' | 'time' | 'upstream'>;

interface GoRule {
  readonly pattern: RegExp;
  readonly make: (m: RegExpExecArray) => Body;
}

const GO_RULES: readonly GoRule[] = [
  {
    pattern: /lookup (\S+?)(?: on (\S+))?: (no such host|server misbehaving|i\/o timeout|.+)/,
    make: (m) => ({
      code: /no such host/.test(m[3]!) ? 'ENOTFOUND' : /timeout/.test(m[3]!) ? 'ETIMEOUT' : 'ESERVFAIL',
      phase: 'dns',
      why: `looking up ${m[1]}${m[2] ? ` on ${m[2]}` : ''} answered "${m[3]}"`,
      summary: `${m[1]} did not resolve: ${m[3]}`,
      confidence: 'high',
    }),
  },
  {
    pattern: /x509: certificate is valid for ([^,]+(?:, [^,]+)*), not (\S+)/,
    make: (m) => ({
      code: 'HOSTNAME_MISMATCH',
      phase: 'tls',
      why: `the upstream certificate is valid for ${m[1]}, not ${m[2]}`,
      summary: `upstream certificate does not match ${m[2]}`,
      confidence: 'high',
    }),
  },
  {
    pattern: /x509: (certificate has expired or is not yet valid|certificate signed by unknown authority|.+)/,
    make: (m) => ({
      code: /expired/.test(m[1]!)
        ? 'CERT_HAS_EXPIRED'
        : /unknown authority/.test(m[1]!)
          ? 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
          : 'CERT_REJECTED',
      phase: 'tls',
      why: `the upstream certificate was rejected: ${m[1]}`,
      summary: `upstream certificate rejected: ${m[1]}`,
      confidence: 'high',
    }),
  },
  {
    pattern: /tls: first record does not look like a TLS handshake|http: server gave HTTP response to HTTPS client/,
    make: () => ({
      code: 'ERR_SSL_WRONG_VERSION_NUMBER',
      phase: 'tls',
      why: 'the upstream answered the TLS handshake with plain HTTP: the server url says https:// but the port speaks http',
      summary: 'https:// to a plain-HTTP upstream',
      confidence: 'high',
    }),
  },
  {
    pattern: /remote error: tls: ([\w ]+)/,
    make: (m) => ({
      code: 'ERR_SSL_TLSV1_ALERT',
      phase: 'tls',
      why: `the upstream sent the TLS alert "${m[1]}"`,
      summary: `upstream TLS alert: ${m[1]}`,
      confidence: 'high',
    }),
  },
  {
    pattern: /malformed HTTP (?:response|status code) "((?:[^"\\]|\\.)*)"/,
    make: (m) => {
      const tls = /^\\x1[56]\\x03/.test(m[1]!);
      return {
        code: 'GW_BAD_RESPONSE',
        phase: 'read_head',
        tlsBytes: tls,
        why: tls
          ? 'the upstream answered with a TLS record: the server url says http:// but the port speaks TLS'
          : `the upstream answered with bytes that are not HTTP: "${m[1]}"`,
        also: [{ cause: 'wrong_upstream_address', why: 'the port may belong to another service' }],
        summary: tls ? 'http:// to a TLS upstream' : 'upstream sent a malformed HTTP response',
        confidence: 'high',
      };
    },
  },
  {
    pattern: /server response headers exceeded (\d+) bytes/,
    make: (m) => ({
      code: 'GW_RESPONSE_HEAD_TOO_LARGE',
      phase: 'read_head',
      why: `the upstream response head is larger than ${m[1]} bytes`,
      summary: 'upstream response header too large',
      confidence: 'high',
    }),
  },
  {
    pattern: /timeout awaiting response headers|context deadline exceeded|Client\.Timeout exceeded/,
    make: () => ({
      code: 'GW_READ_TIMEOUT',
      phase: 'read_head',
      why: 'the upstream did not send response headers within the configured time',
      also: [{ cause: 'overload_or_exhaustion', why: 'a saturated backend answers late' }],
      summary: 'timeout waiting for the upstream response headers',
      confidence: 'high',
    }),
  },
  {
    pattern: /dial (?:tcp|tcp4|tcp6|unix) (\S+?): i\/o timeout/,
    make: (m) => ({
      code: 'GW_CONNECT_TIMEOUT',
      phase: 'connect',
      why: `no TCP connection to ${m[1]} before the dial timeout: packets dropped or host down`,
      summary: `dial ${m[1]} timed out`,
      confidence: 'high',
    }),
  },
  {
    pattern: /dial (tcp|tcp4|tcp6|unix) (\S+?): (?:connect|socket): (.+)$/,
    make: (m) => {
      const code = errnoCodeIn(m[3]!) ?? 'UNKNOWN';
      return {
        code,
        phase: 'connect',
        unixPath: m[1] === 'unix',
        why: `connecting to ${m[2]} failed: ${m[3]}`,
        ...(code === 'ECONNREFUSED'
          ? { also: [{ cause: 'wrong_upstream_address' as const, why: 'the backend may listen elsewhere' }] }
          : {}),
        summary: `dial ${m[2]}: ${m[3]}`,
        confidence: 'high',
      };
    },
  },
  {
    pattern: /(read|write|readfrom|writeto) (?:tcp|unix) \S+: (?:read|write): (.+)$/,
    make: (m) => ({
      code: errnoCodeIn(m[2]!) ?? 'ECONNRESET',
      phase: m[1] === 'read' ? 'read_head' : 'send',
      why: `the connection to the upstream failed: ${m[2]}`,
      also: [
        { cause: 'keepalive_mismatch', why: "Go's transport reuses idle connections the backend may have closed" },
      ],
      summary: `connection to the upstream failed: ${m[2]}`,
      confidence: 'medium',
    }),
  },
  {
    pattern: /(?:^|: )(?:unexpected )?EOF$|server closed idle connection|transport connection broken/,
    make: () => ({
      code: 'GW_UPSTREAM_CLOSED',
      phase: 'read_head',
      why: 'the upstream closed the connection without a response',
      also: [
        { cause: 'keepalive_mismatch', why: "Go's transport reuses idle connections the backend may have closed" },
        { cause: 'tls_mismatch', why: 'a TLS backend closes a plain-HTTP connection without an answer' },
      ],
      summary: 'upstream closed the connection before responding',
      confidence: 'medium',
    }),
  },
];

/** The finding for a Go error text; undefined when no rule knows it. */
export function goError(text: string): Body | undefined {
  for (const rule of GO_RULES) {
    const m = rule.pattern.exec(text);
    if (m) return rule.make(m);
  }
  return undefined;
}

/** A client gone away, which Go reports as a canceled context: not an upstream failure. */
export function isClientCancel(text: string): boolean {
  return /context canceled|operation was canceled/.test(text);
}

/** The upstream a Go error names: "dial tcp 10.0.0.5:8080: ...", "read tcp A->10.0.0.5:8080: ...", "dial unix /run/app.sock: ...". */
export function upstreamOfGoError(text: string): string | undefined {
  const lookup = /lookup (\S+?)(?: on \S+)?: /.exec(text);
  if (lookup) return lookup[1];
  const unix = /dial unix (\S+?):\s/.exec(text);
  if (unix) return `unix:${unix[1]}`;
  return /(?:dial tcp[46]? |->)(\S+?):\s/.exec(text)?.[1];
}
