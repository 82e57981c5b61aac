/**
 * nginx's error log (also ingress-nginx's, which is nginx). The messages of ngx_http_upstream.c,
 * ngx_http_proxy_module.c, ngx_event_openssl.c and ngx_resolver.c are read by the table in
 * nginx-messages.ts; the system errors of ngx_event_connect.c and the os/unix I/O calls
 * ("connect() failed (111: Connection refused)", "recv() failed (104: ...)", "socket() failed (24:
 * ...)") by their errno, refined here per code.
 */
import { errnoCode } from './errno.js';
import { RULES } from './nginx-messages.js';
import { closedBeforeHead, type NginxBody, type Parsed, parse, where } from './nginx-parse.js';
import { isIpv6Loopback } from './target.js';
import type { Finding, LineInput, Recogniser } from './types.js';

/** A system error with a phase: connect() failed, recv() failed, writev() failed, socket() failed, ... */
function systemError(p: Parsed): NginxBody | undefined {
  if (p.errno === undefined) return undefined;
  const code = errnoCode(p.errno);
  if (code === undefined) return undefined;
  const syscall = /^(\w+)\(\)/.exec(p.message)?.[1];
  const phase = p.phase ?? (syscall === 'connect' ? 'connect' : 'internal');
  const unix = p.target.unixPath !== undefined || /unix:/.test(p.message);
  const finding: NginxBody = {
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

type Refinement = (p: Parsed, base: NginxBody) => Partial<NginxBody>;

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
