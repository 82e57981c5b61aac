/**
 * An nginx error-log line in parts, as ngx_log_error_core() writes it:
 *   2024/01/02 15:04:05 [error] 1234#1234: *56 MESSAGE (ERRNO: TEXT) while ACTION, client: ..., upstream: "..."
 * time, level, pid#tid, connection, the message, the errno in parentheses, then the context of
 * ngx_http_log_error() (or ngx_resolver_log_error()); the action names the phase.
 */
import type { Phase } from '../failure.js';
import { settingsOf } from './checks.js';
import { isTlsPort, parseTarget, type Target } from './target.js';
import { fromSlashDate } from './time.js';
import type { Finding } from './types.js';

/** What the nginx recognisers make of a line: a finding without its source, time and upstream. */
export type NginxBody = Omit<Finding, 'source' | 'time' | 'upstream'>;

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

export interface Parsed {
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

export function parse(line: string): Parsed | undefined {
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

export const SETTINGS = settingsOf('nginx_error');

export function where(p: Parsed): string {
  if (p.target.unixPath !== undefined) return `unix:${p.target.unixPath}`;
  if (p.target.host !== undefined) return `${p.target.host}${p.target.port ? `:${p.target.port}` : ''}`;
  return 'the upstream';
}
/** The causes a connection closed or reset before the response head can have, most likely first for nginx. */
export function closedBeforeHead(p: Parsed, what: string): NginxBody {
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
