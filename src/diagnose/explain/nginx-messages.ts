/**
 * The messages of nginx's upstream, proxy, SSL and resolver code, as a table: each row reads one
 * message (its text as ngx_log_error() formats it) and says what it means in Gatewise's terms.
 */
import type { Phase } from '../failure.js';
import { closedBeforeHead, type NginxBody, type Parsed, SETTINGS, where } from './nginx-parse.js';
import { isTlsPort } from './target.js';
import { tlsCodeOf, x509VerifyCode } from './tls.js';

export type Rule = {
  readonly pattern: RegExp;
  readonly make: (m: RegExpExecArray, p: Parsed) => NginxBody;
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
export const RULES: readonly Rule[] = [
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
