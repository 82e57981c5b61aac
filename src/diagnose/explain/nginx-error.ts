/**
 * nginx's error log (also ingress-nginx's, which is nginx). A line is
 *   2024/01/02 15:04:05 [error] 1234#1234: *56 MESSAGE (ERRNO: TEXT) while ACTION, client: ..., upstream: "..."
 * as ngx_log_error_core() writes it: time, level, pid#tid, connection, the message, the errno in
 * parentheses, then the context of ngx_http_log_error(). The messages and actions below are the ones
 * ngx_http_upstream.c, ngx_http_proxy_module.c, ngx_event_connect.c, ngx_event_openssl.c and
 * ngx_resolver.c print; the action ("while connecting to upstream") names the phase.
 */
import type { Phase } from '../failure.js';
import { settingsOf } from './checks.js';
import { errnoCode } from './errno.js';
import { isIpv6Loopback, isTlsPort, parseTarget, type Target } from './target.js';
import { fromSlashDate } from './time.js';
import { tlsCodeOf, x509VerifyCode } from './tls.js';
import type { Finding, LineInput, Recogniser } from './types.js';

const HEAD = /(?:^|\s)(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}) \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$/;

/** nginx's log->action texts (set in ngx_http_upstream.c and ngx_resolver.c), as Gatewise phases. */
const ACTIONS: readonly (readonly [string, Phase])[] = [
  ['connecting to upstream', 'connect'],
  ['SSL handshaking to upstream', 'tls'],
  ['sending request to upstream', 'send'],
  ['reading response header from upstream', 'read_head'],
  ['reading upstream', 'read_body'],
  ['proxying upgraded connection', 'read_body'],
  ['resolving', 'dns'],
];

interface Parsed {
  level: string;
  time: string | undefined;
  /** The message without the errno, action and context. */
  message: string;
  errno: number | undefined;
  errnoText: string;
  action: string;
  phase: Phase | undefined;
  upstream: string | undefined;
  target: Target;
}

function parse(line: string): Parsed | undefined {
  const m = HEAD.exec(line);
  if (!m) return undefined;
  const rest = m[3]!;
  const contextAt = rest.search(/, (?:client|server|resolver): /);
  const body = contextAt >= 0 ? rest.slice(0, contextAt) : rest;
  const context = contextAt >= 0 ? rest.slice(contextAt) : '';
  const whileAt = body.lastIndexOf(' while ');
  const action = whileAt >= 0 ? body.slice(whileAt + ' while '.length) : '';
  let message = whileAt >= 0 ? body.slice(0, whileAt) : body;
  // The errno comes last in the message: " (111: Connection refused)".
  const errno = /\s\((\d+): ([^()]*)\)$/.exec(message);
  if (errno) message = message.slice(0, errno.index);
  const upstream = /, upstream: "([^"]*)"/.exec(context)?.[1];
  return {
    level: m[2]!,
    time: fromSlashDate(m[1]!),
    message,
    errno: errno ? Number(errno[1]) : undefined,
    errnoText: errno ? errno[2]! : '',
    action,
    phase: ACTIONS.find(([text]) => action === text)?.[1],
    upstream,
    target: parseTarget(upstream),
  };
}

const SETTINGS = settingsOf('nginx_error');

type Rule = {
  readonly pattern: RegExp;
  readonly make: (m: RegExpExecArray, p: Parsed) => Omit<Finding, 'source' | 'time' | 'upstream'>;
};

/** A timeout's code by phase: ngx_http_upstream_next(NGX_HTTP_UPSTREAM_FT_TIMEOUT) logs "upstream timed out". */
function timeoutCode(phase: Phase | undefined): { code: string; phase: Phase } {
  switch (phase) {
    case 'connect':
      return { code: 'GW_CONNECT_TIMEOUT', phase };
    case 'tls':
      return { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', phase };
    case 'send':
      return { code: 'GW_SEND_TIMEOUT', phase };
    case 'read_body':
      return { code: 'GW_READ_TIMEOUT', phase };
    default:
      return { code: 'GW_READ_TIMEOUT', phase: 'read_head' };
  }
}

function where(p: Parsed): string {
  if (p.target.unixPath !== undefined) return `unix:${p.target.unixPath}`;
  if (p.target.host !== undefined) return `${p.target.host}${p.target.port ? `:${p.target.port}` : ''}`;
  return 'the upstream';
}

/** The causes a connection closed or reset before the response head can have, most likely first for nginx. */
function closedBeforeHead(p: Parsed, what: string): Omit<Finding, 'source' | 'time' | 'upstream'> {
  const tlsLikely = p.target.scheme === 'http' && isTlsPort(p.target);
  const tls = {
    cause: 'tls_mismatch' as const,
    why: `a TLS server closes a plain-HTTP request without an answer; ${where(p)} may expect https://`,
  };
  return {
    code: what === 'closed' ? 'GW_UPSTREAM_CLOSED' : 'ECONNRESET',
    phase: 'read_head',
    ...(tlsLikely ? { cause: 'tls_mismatch' as const } : {}),
    why: tlsLikely
      ? `proxy_pass uses http:// to port ${p.target.port}, a TLS port; a TLS server closes plain HTTP without an answer`
      : `${where(p)} ${what} the connection after the request and before any response: the backend process died or killed the request`,
    also: [
      ...(tlsLikely
        ? [{ cause: 'crash_or_oom' as const, why: 'the backend may have crashed or been killed mid-request' }]
        : [tls]),
      {
        cause: 'keepalive_mismatch',
        why: `with upstream keepalive, the backend may close an idle connection as nginx reuses it (compare ${SETTINGS.upstreamIdle} with the backend's keep-alive timeout)`,
      },
    ],
    summary: `${where(p)} ${what} the connection before sending a response header (502)`,
    confidence: 'medium',
  };
}

const RULES: readonly Rule[] = [
  {
    pattern: /^upstream timed out/,
    make: (_m, p) => {
      const { code, phase } = timeoutCode(p.phase);
      const words: Record<string, string> = {
        connect: `no TCP connection to ${where(p)} within ${SETTINGS.connectTimeout}: packets dropped, host down or backlog full`,
        tls: `the TLS handshake with ${where(p)} did not finish in time`,
        send: `${where(p)} did not accept the request body in time`,
        read_head: `${where(p)} accepted the request but sent no response header within ${SETTINGS.readTimeout}`,
        read_body: `${where(p)} stopped sending the response body for longer than ${SETTINGS.readTimeout}`,
      };
      const status = phase === 'read_body' ? 'response cut short' : '504';
      return {
        code,
        phase,
        ...(p.target.unixPath !== undefined && phase === 'connect' ? { unixPath: true } : {}),
        why: words[phase] ?? `${where(p)} did not answer in time`,
        also:
          phase === 'connect'
            ? [
                { cause: 'overload_or_exhaustion', why: "the backend's listen backlog may be full" },
                { cause: 'backend_down', why: 'the backend host may be down or powered off' },
              ]
            : [
                {
                  cause: 'overload_or_exhaustion',
                  why: 'a saturated backend (all workers busy) answers late or not at all',
                },
                { cause: 'firewall_or_network', why: 'a firewall that drops packets mid-connection looks the same' },
              ],
        summary: `upstream timed out ${p.action ? `while ${p.action}` : ''} (${status})`.replace('  ', ' '),
        confidence: 'high',
      };
    },
  },
  {
    pattern: /^upstream prematurely closed connection/,
    make: (_m, p) =>
      p.phase === 'read_body'
        ? {
            code: 'GW_BODY_INCOMPLETE',
            phase: 'read_body',
            why: `${where(p)} closed the connection in the middle of the response body: it crashed, was killed or aborted the response`,
            also: [
              { cause: 'slow_backend', why: 'a backend-side timeout can abort a long response' },
              { cause: 'protocol_error', why: 'a Content-Length larger than the body sent also ends this way' },
            ],
            summary: `${where(p)} closed the connection before the response body was complete (client got a truncated response)`,
            confidence: 'medium',
          }
        : closedBeforeHead(p, 'closed'),
  },
  {
    pattern: /^upstream sent too big header/,
    make: (_m, p) => ({
      code: 'GW_RESPONSE_HEAD_TOO_LARGE',
      phase: 'read_head',
      why: `the response head from ${where(p)} does not fit in ${SETTINGS.headerLimit}`,
      summary: 'the response header is larger than proxy_buffer_size (502)',
      confidence: 'high',
    }),
  },
  {
    pattern: /^upstream sent too big trailers/,
    make: () => ({
      code: 'GW_RESPONSE_HEAD_TOO_LARGE',
      phase: 'read_body',
      why: 'the response trailers do not fit in the proxy buffers',
      summary: 'the response trailers are larger than the buffers allow',
      confidence: 'high',
    }),
  },
  {
    pattern: /^upstream sent no valid HTTP\/1\.0 header/,
    make: (_m, p) => ({
      code: 'GW_BAD_RESPONSE',
      phase: 'read_head',
      ...(p.target.scheme === 'http' && isTlsPort(p.target) ? { cause: 'tls_mismatch' as const } : {}),
      why: `${where(p)} answered with bytes that are not an HTTP status line`,
      also: [
        {
          cause: 'tls_mismatch',
          why: `a TLS server answers plain HTTP with a TLS alert; ${where(p)} may expect https://`,
        },
        {
          cause: 'wrong_upstream_address',
          why: 'the port may belong to another service (a database, SSH, FastCGI or gRPC)',
        },
      ],
      summary: `${where(p)} did not answer with HTTP (502)`,
      confidence: 'medium',
    }),
  },
  {
    pattern:
      /^upstream sent (?:invalid header|invalid chunked response|invalid trailer|"Content-Length" and "Transfer-Encoding"|invalid "Content-Length"|unknown "Transfer-Encoding"|duplicate header line|more data than specified)/,
    make: (m, p) => ({
      code: 'GW_BAD_RESPONSE',
      phase: p.phase ?? 'read_head',
      why: `${where(p)} sent a malformed response: ${m[0].slice('upstream sent '.length)}`,
      summary: `${where(p)} sent an invalid HTTP response`,
      confidence: 'high',
    }),
  },
  {
    pattern: /^no live upstreams/,
    make: (_m, p) => ({
      code: 'GW_NO_SERVER',
      phase: 'select',
      why: `every server of ${p.target.host ?? 'the upstream group'} is marked failed (max_fails within fail_timeout), after connection errors or timeouts`,
      also: [
        {
          cause: 'wrong_upstream_address',
          why: 'servers that never worked were marked failed by the first requests',
        },
        { cause: 'overload_or_exhaustion', why: 'timeouts under load count as failures too' },
      ],
      checks: [{ what: 'Read the errors just before this line: they say why each server was marked failed' }],
      summary: 'nginx has no server left to try in the upstream group (502)',
      confidence: 'high',
    }),
  },
  {
    pattern: /^SSL_(?:read|write|sendfile)\(\) failed/,
    make: (_m, p) =>
      p.phase === 'read_body'
        ? {
            code: 'ECONNRESET',
            phase: 'read_body',
            why: `the TLS connection to ${where(p)} broke in the middle of the response body: ${p.message}`,
            summary: `${where(p)} broke the TLS connection before the response body was complete`,
            confidence: 'medium',
          }
        : { ...closedBeforeHead(p, 'broke'), code: 'ECONNRESET', phase: p.phase === 'send' ? 'send' : 'read_head' },
  },
  {
    pattern: /^peer closed connection in SSL handshake/,
    make: (_m, p) => ({
      code: 'ECONNRESET',
      phase: 'tls',
      cause: 'tls_config',
      why: `${where(p)} closed the connection during the TLS handshake: it often requires SNI (nginx sends none unless ${SETTINGS.tlsName}) or refuses the TLS versions offered`,
      also: [{ cause: 'tls_mismatch', why: `${where(p)} may not speak TLS at all` }],
      summary: `${where(p)} closed the connection during the TLS handshake (502)`,
      confidence: 'medium',
    }),
  },
  {
    pattern: /^SSL_do_handshake\(\) failed/,
    make: (_m, p) => {
      const code = tlsCodeOf(p.message) ?? 'ERR_SSL_HANDSHAKE_FAILURE';
      const notTls = code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG';
      return {
        code,
        phase: 'tls',
        why: notTls
          ? `${where(p)} answered the TLS ClientHello with plain bytes: it speaks HTTP, not TLS (proxy_pass https:// to a plain port)`
          : `the TLS handshake with ${where(p)} failed: ${p.message.replace(/^SSL_do_handshake\(\) failed /, '')}`,
        also: notTls
          ? [{ cause: 'wrong_upstream_address', why: 'the port may belong to another service' }]
          : [{ cause: 'tls_mismatch', why: 'the backend may not speak TLS on this port' }],
        summary: `TLS handshake with ${where(p)} failed (502)`,
        confidence: 'high',
      };
    },
  },
  {
    pattern: /^upstream SSL certificate verify error: \((\d+):([^)]*)\)/,
    make: (m, p) => ({
      code: x509VerifyCode(Number(m[1])),
      phase: 'tls',
      why: `nginx rejected the certificate of ${where(p)}: ${m[2]}`,
      summary: `the certificate of ${where(p)} was rejected: ${m[2]} (502)`,
      confidence: 'high',
    }),
  },
  {
    pattern: /^upstream SSL certificate does not match "([^"]*)"/,
    make: (m, p) => ({
      code: 'HOSTNAME_MISMATCH',
      phase: 'tls',
      why: `the certificate of ${where(p)} is not valid for "${m[1]}" (set proxy_ssl_name to a name it holds)`,
      summary: `the certificate of ${where(p)} does not match "${m[1]}" (502)`,
      confidence: 'high',
    }),
  },
  {
    pattern: /^(\S+) could not be resolved$/,
    make: (m, p) => {
      // ngx_resolver_strerror(): the DNS RCODE (1 FORMERR .. 5 REFUSED), or 110 when the resolver timed out.
      const codes: Record<number, string> = {
        1: 'EFORMERR',
        2: 'ESERVFAIL',
        3: 'ENOTFOUND',
        4: 'ESERVFAIL',
        5: 'EREFUSED',
        110: 'ETIMEOUT',
      };
      return {
        code: codes[p.errno ?? 3] ?? 'ENOTFOUND',
        phase: 'dns',
        why: `the resolver answered "${p.errnoText || 'unknown error'}" for ${m[1]}`,
        summary: `${m[1]} could not be resolved: ${p.errnoText || 'unknown error'} (502)`,
        confidence: 'high',
      };
    },
  },
  {
    pattern: /^no resolver defined to resolve (\S+)/,
    make: (m) => ({
      error: 'dns_error',
      cause: 'dns',
      phase: 'dns',
      why: `proxy_pass names ${m[1]} through a variable, which nginx resolves at request time, but no resolver directive is set`,
      also: [{ cause: 'wrong_upstream_address', why: 'a variable in proxy_pass may hold a host that was not meant' }],
      summary: `nginx has no resolver to look up ${m[1]} (502)`,
      confidence: 'high',
    }),
  },
  {
    pattern: /^host not found in upstream "([^"]*)"/,
    make: (m) => ({
      code: 'ENOTFOUND',
      phase: 'dns',
      why: `${m[1]} did not resolve when nginx read its configuration, so nginx refused to start or reload`,
      also: [{ cause: 'wrong_upstream_address', why: 'the name may be misspelled' }],
      summary: `host in upstream "${m[1]}" not found: nginx did not load this configuration`,
      confidence: 'high',
    }),
  },
  {
    pattern: /^(\d+) worker_connections are not enough/,
    make: (m) => ({
      error: 'connection_limit_reached',
      cause: 'overload_or_exhaustion',
      why: `all ${m[1]} connections of a worker are in use (clients and upstreams both count)`,
      checks: [
        { what: 'Raise worker_connections (and worker_rlimit_nofile with it)', command: 'nginx -T | grep -n worker_' },
      ],
      summary: `nginx ran out of worker connections (${m[1]})`,
      confidence: 'high',
    }),
  },
  {
    pattern: /^upstream server temporarily disabled/,
    make: (_m, p) => ({
      error: null,
      cause: 'backend_down',
      why: `${where(p)} failed max_fails times within fail_timeout and is skipped for fail_timeout`,
      summary: `nginx marked ${where(p)} as failed; the error before this line says why`,
      confidence: 'medium',
    }),
  },
  {
    pattern: /^an upstream response is buffered to a temporary file/,
    make: () => ({
      error: null,
      cause: 'buffer_or_limit_config',
      why: 'the response is larger than proxy_buffers, so nginx writes it to disk (slower, not a failure)',
      summary:
        'a large response went to a temporary file; raise proxy_buffers or proxy_max_temp_file_size if this is frequent',
      confidence: 'high',
    }),
  },
  {
    pattern: /^client intended to send too large body/,
    make: () => ({
      error: null,
      cause: 'buffer_or_limit_config',
      why: 'the request body is larger than client_max_body_size; nginx answered 413 without asking the upstream',
      summary: 'request body over client_max_body_size (413)',
      confidence: 'high',
    }),
  },
  {
    pattern:
      /(?:client prematurely closed connection|client closed connection|client timed out|closed keepalive connection)/,
    make: () => ({
      error: null,
      cause: 'other',
      why: 'the client went away; nothing failed on the upstream side (logged as 499 when a request was in flight)',
      summary: 'client closed the connection',
      confidence: 'high',
    }),
  },
];

/** A system error with a phase: connect() failed, recv() failed, writev() failed, socket() failed, ... */
function systemError(p: Parsed): Omit<Finding, 'source' | 'time' | 'upstream'> | undefined {
  if (p.errno === undefined) return undefined;
  const code = errnoCode(p.errno);
  if (code === undefined) return undefined;
  const syscall = /^(\w+)\(\)/.exec(p.message)?.[1];
  const phase = p.phase ?? (syscall === 'connect' ? 'connect' : 'internal');
  const unix = p.target.unixPath !== undefined || /unix:/.test(p.message);
  const finding: Omit<Finding, 'source' | 'time' | 'upstream'> = {
    code,
    phase,
    unixPath: unix,
    ...(syscall === 'bind' ? { syscall } : {}),
    why: `${p.message} (${p.errno}: ${p.errnoText})${p.action ? ` while ${p.action}` : ''}`,
    summary: `${p.message.replace(/ to \S+ failed$/, ' failed')} (${p.errnoText})${p.action ? ` while ${p.action}` : ''}`,
    confidence: 'high',
  };
  const refine = REFINE[code];
  return refine ? { ...finding, ...refine(p, finding) } : finding;
}

type Refinement = (
  p: Parsed,
  base: Omit<Finding, 'source' | 'time' | 'upstream'>,
) => Partial<Omit<Finding, 'source' | 'time' | 'upstream'>>;

/** What nginx's errno lines mean beyond the code, per code. */
const REFINE: Readonly<Record<string, Refinement>> = {
  ECONNREFUSED: (p) => ({
    ...(isIpv6Loopback(p.target) ? { cause: 'wrong_upstream_address' as const } : {}),
    why: isIpv6Loopback(p.target)
      ? '"localhost" resolved to ::1, but the backend may listen on 127.0.0.1 only'
      : `nothing accepts connections on ${where(p)}: the backend is stopped, crashed or not yet started`,
    also: [
      {
        cause: isIpv6Loopback(p.target) ? 'backend_down' : 'wrong_upstream_address',
        why: isIpv6Loopback(p.target)
          ? 'the backend may be stopped'
          : `the backend may listen on another port or address than ${where(p)}`,
      },
      { cause: 'firewall_or_network', why: 'a firewall rule that rejects (not drops) answers with a reset too' },
    ],
    summary: `connection to ${where(p)} refused (502)`,
  }),
  ENOENT: (p) => ({
    why: `the socket file ${p.target.unixPath ?? ''} does not exist: wrong path, or the backend is not running (it creates the socket when it starts)`,
    also: [{ cause: 'backend_down', why: 'the backend removes its socket when it stops' }],
    summary: `socket ${p.target.unixPath ?? ''} not found (502)`,
  }),
  EACCES: (p) => ({
    why:
      p.target.unixPath !== undefined
        ? `nginx's user may not open ${p.target.unixPath}: check its owner and mode (listen.owner/listen.mode for php-fpm)`
        : 'the kernel denied the connect(): SELinux (httpd_can_network_connect) or a local policy',
    summary: `permission denied connecting to ${where(p)} (502)`,
  }),
  EAGAIN: (p) => ({
    why: `the listen backlog of ${where(p)} is full: the backend cannot accept connections as fast as they come`,
    also: [{ cause: 'slow_backend', why: 'slow requests hold the workers that would accept new ones' }],
    summary: `${where(p)} is not accepting connections: backlog full (502)`,
  }),
  EADDRNOTAVAIL: (p) =>
    isIpv6Loopback(p.target)
      ? {
          cause: 'wrong_upstream_address',
          why: '"localhost" resolved to ::1 but IPv6 is not available on this host; use 127.0.0.1',
          also: [{ cause: 'overload_or_exhaustion', why: 'ephemeral ports may be exhausted' }],
        }
      : {
          why: 'no free local port for a new upstream connection: ephemeral ports exhausted (many TIME-WAIT connections)',
          also: [{ cause: 'keepalive_mismatch', why: 'without upstream keepalive, every request uses a new port' }],
        },
  ECONNRESET: (p) =>
    p.phase === 'read_head' || p.phase === 'send'
      ? { ...closedBeforeHead(p, 'reset'), code: 'ECONNRESET', phase: p.phase, confidence: 'high' }
      : {},
  EPIPE: (p) => ({
    why: `${where(p)} closed the connection while nginx was still sending the request`,
    also: [
      {
        cause: 'keepalive_mismatch',
        why: 'with upstream keepalive, a reused connection the backend had just closed fails this way',
      },
    ],
  }),
  ETIMEDOUT: (p) =>
    p.phase === 'connect'
      ? { why: `TCP connect to ${where(p)} timed out in the kernel: packets dropped or host down` }
      : { why: `${where(p)} stopped acknowledging data: the host vanished or a firewall dropped the connection state` },
  EHOSTUNREACH: (p) => ({ why: `no route to ${where(p)}: host down, wrong network or an ICMP-rejecting firewall` }),
  EMFILE: () => ({ why: 'nginx hit its open-file limit (worker_rlimit_nofile / ulimit -n)' }),
};

function recognise(input: LineInput): Finding | undefined {
  const p = parse(input.line);
  if (p === undefined) return undefined;
  const base = { source: 'nginx_error' as const, ...(p.time ? { time: p.time } : {}) };
  const upstream = p.upstream ? { upstream: p.upstream } : {};
  for (const rule of RULES) {
    const m = rule.pattern.exec(p.message);
    if (m) return { ...base, ...upstream, ...rule.make(m, p) };
  }
  const system = systemError(p);
  if (system) return { ...base, ...upstream, ...system };
  const failure = p.level === 'error' || p.level === 'crit' || p.level === 'alert' || p.level === 'emerg';
  return {
    ...base,
    ...upstream,
    error: null,
    cause: 'other',
    why: failure ? `an nginx ${p.level} this explainer does not know: ${p.message}` : 'a notice, not a failure',
    summary: failure ? `nginx ${p.level}: ${p.message}` : `nginx ${p.level}: ${p.message}`,
    confidence: failure ? 'low' : 'high',
  };
}

export const nginxError: Recogniser = { source: 'nginx_error', recognise };
