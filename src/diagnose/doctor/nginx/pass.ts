/**
 * The pass directives (proxy_pass, fastcgi_pass, uwsgi_pass, scgi_pass, grpc_pass, and proxy_pass
 * of the stream module) turned into targets: the servers they reach and nginx's settings and
 * defaults in force where they are used.
 */
import { isIP } from 'node:net';
import type { DoctorTarget, TargetProtocol, TlsSettings } from '../model.js';
import type { DoctorFinding, Severity } from '../types.js';
import { type ParsedPassUrl, parseAddress, splitPassUrl } from './addresses.js';
import type { Directive } from './parse.js';
import { type Scope, substitute, value, where } from './scope.js';
import { parseNginxSize, parseNginxTime } from './units.js';
import { type UpstreamBlock, upstreamKeepalive, upstreamServer } from './upstream-block.js';

/** nginx's defaults (ngx_http_proxy_module and friends). */
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_STREAM_TIMEOUT_MS = 600_000;
/** proxy_buffer_size defaults to one memory page: 4k on the platforms nginx is usually built for. */
const DEFAULT_BUFFER_BYTES = 4096;
const DEFAULT_UPSTREAM_KEEPALIVE_TIMEOUT_MS = 60_000;

export interface PassKind {
  /** Directive prefix of the module's settings (proxy_read_timeout, fastcgi_read_timeout...). */
  prefix: string;
  schemes: readonly string[];
  /** Scheme assumed when the directive names a bare address. */
  bareScheme: string | undefined;
  protocol: TargetProtocol;
  tlsScheme: string | undefined;
  /** The stream module: one proxy_timeout for reads and writes. */
  stream?: boolean;
}

/** The pass directives of the http modules, table-driven: adding one is adding a row. */
export const PASS_KINDS: Readonly<Record<string, PassKind>> = {
  proxy_pass: {
    prefix: 'proxy',
    schemes: ['http', 'https'],
    bareScheme: undefined,
    protocol: 'http',
    tlsScheme: 'https',
  },
  fastcgi_pass: { prefix: 'fastcgi', schemes: [], bareScheme: 'fastcgi', protocol: 'fastcgi', tlsScheme: undefined },
  uwsgi_pass: {
    prefix: 'uwsgi',
    schemes: ['uwsgi', 'suwsgi'],
    bareScheme: 'uwsgi',
    protocol: 'uwsgi',
    tlsScheme: 'suwsgi',
  },
  scgi_pass: { prefix: 'scgi', schemes: [], bareScheme: 'scgi', protocol: 'scgi', tlsScheme: undefined },
  grpc_pass: { prefix: 'grpc', schemes: ['grpc', 'grpcs'], bareScheme: 'grpc', protocol: 'grpc', tlsScheme: 'grpcs' },
};

export const STREAM_PASS: PassKind = {
  prefix: 'proxy',
  schemes: [],
  bareScheme: 'tcp',
  protocol: 'tcp',
  tlsScheme: undefined,
  stream: true,
};

export interface PassContext {
  upstreams: ReadonlyMap<string, UpstreamBlock>;
  targets: DoctorTarget[];
  notes: DoctorFinding[];
  healthPath: string;
}

function note(ctx: PassContext, severity: Severity, title: string, evidence: string): void {
  ctx.notes.push({ severity, check: 'config', title, evidence: [evidence] });
}

export function addTarget(
  ctx: PassContext,
  directive: Directive,
  kind: PassKind,
  scope: Scope,
  vars: ReadonlyMap<string, string>,
  label: string,
): void {
  const raw = directive.args[0];
  if (raw === undefined) return;
  const at = where(directive);
  const evidence = `${at.file}:${at.line}: ${directive.name} ${raw};`;
  const split = splitPassUrl(substitute(raw, vars), kind.schemes, kind.bareScheme);
  if ('invalid' in split) {
    note(ctx, 'warning', split.invalid, evidence);
    return;
  }
  const target = baseTarget(ctx, directive, kind, split, scope, `${label} (${at.file}:${at.line})`);
  if (split.address.includes('$')) {
    target.dynamic = `${target.directive} depends on a variable set per request`;
    ctx.targets.push(target);
    // The value may name an upstream block (no resolver needed) or a host (resolver needed).
    if (target.resolvers.length === 0) noResolverNote(ctx, target, evidence, 'warning');
    return;
  }
  const parsed = parseAddress(split.address);
  if (parsed.kind === 'invalid') {
    note(ctx, 'warning', `${directive.name}: ${parsed.reason}`, evidence);
    return;
  }
  const tlsSettings = tlsSettingsOf(kind, split, scope);
  // A variable makes nginx look the host up per request (through `resolver`); a literal host name is
  // resolved once, when nginx starts.
  const perRequest = raw.includes('$');
  const upstream = parsed.kind === 'tcp' && parsed.port === undefined ? ctx.upstreams.get(parsed.host) : undefined;
  if (upstream !== undefined) {
    useUpstream(ctx, target, upstream, tlsSettings, scope, kind, evidence);
    target.resolvedAtStartup =
      !perRequest && upstream.servers.some((server) => !server.args.includes('resolve') && isName(server.args[0]));
  } else if (parsed.kind === 'unix') {
    const text = `unix:${parsed.path}`;
    target.servers.push({ kind: 'unix', path: parsed.path, text, where: at, backup: false, down: false });
  } else {
    if (parsed.port === undefined && kind.bareScheme !== undefined && split.scheme !== 'grpc') {
      note(ctx, 'warning', `${directive.name} ${raw}: no port and no upstream named "${parsed.host}"`, evidence);
      return;
    }
    const port = parsed.port ?? (tlsSettings(parsed.host) ? 443 : 80);
    const server = { kind: 'tcp' as const, host: parsed.host, port, text: `${parsed.host}:${port}`, where: at };
    target.servers.push({ ...server, backup: false, down: false, tls: tlsSettings(parsed.host) });
    target.resolvedAtStartup = !perRequest && isName(parsed.host);
    if (perRequest && isName(parsed.host) && target.resolvers.length === 0)
      noResolverNote(ctx, target, evidence, 'critical');
  }
  ctx.targets.push(target);
}

function baseTarget(
  ctx: PassContext,
  directive: Directive,
  kind: PassKind,
  split: ParsedPassUrl,
  scope: Scope,
  usedBy: string,
): DoctorTarget {
  const prefix = kind.prefix;
  const time = (name: string, fallback: number): number =>
    parseNginxTime(value(scope, `${prefix}_${name}`)?.args[0] ?? '') ?? fallback;
  const ioTimeout = (name: string): number =>
    kind.stream ? time('timeout', DEFAULT_STREAM_TIMEOUT_MS) : time(name, DEFAULT_TIMEOUT_MS);
  const resolver = value(scope, 'resolver');
  return {
    upstream: split.address,
    protocol: kind.protocol,
    servers: [],
    usedBy: [usedBy],
    directive: `${directive.name} ${directive.args[0]}`,
    where: where(directive),
    connectTimeoutMs: time('connect_timeout', DEFAULT_TIMEOUT_MS),
    readTimeoutMs: ioTimeout('read_timeout'),
    sendTimeoutMs: ioTimeout('send_timeout'),
    maxResponseHeaderBytes:
      parseNginxSize(value(scope, `${prefix}_buffer_size`)?.args[0] ?? '') ?? DEFAULT_BUFFER_BYTES,
    keepalive: false,
    keepaliveIdleMs: DEFAULT_UPSTREAM_KEEPALIVE_TIMEOUT_MS,
    honoursKeepAliveHint: false,
    healthPath: ctx.healthPath,
    resolvedAtStartup: false,
    resolvers: resolverAddresses(resolver),
    settings: {
      connect: `${prefix}_connect_timeout`,
      read: kind.stream ? 'proxy_timeout' : `${prefix}_read_timeout`,
      send: kind.stream ? 'proxy_timeout' : `${prefix}_send_timeout`,
      headerLimit: `${prefix}_buffer_size`,
      keepaliveIdle: 'keepalive_timeout (in the upstream block)',
      resolver: 'resolver',
    },
  };
}

function resolverAddresses(resolver: Directive | undefined): string[] {
  return resolver ? resolver.args.filter((arg) => !arg.includes('=')) : [];
}

/**
 * TLS as nginx does it by default: no SNI (proxy_ssl_server_name off), no verification
 * (proxy_ssl_verify off), and the name checked is proxy_ssl_name, which defaults to the host of
 * the pass URL: the upstream block's name when there is one.
 */
function tlsSettingsOf(kind: PassKind, split: ParsedPassUrl, scope: Scope): (host: string) => TlsSettings | undefined {
  if (kind.tlsScheme === undefined || split.scheme !== kind.tlsScheme) return () => undefined;
  const setting = (name: string): string | undefined => value(scope, `${kind.prefix}_ssl_${name}`)?.args[0];
  const name = setting('name') ?? split.address;
  return (host) => ({
    sni: setting('server_name') === 'on' ? name : undefined,
    verify: setting('verify') === 'on',
    verifyName: stripPort(name) || host,
    caFile: setting('trusted_certificate'),
    sniSetting: `${kind.prefix}_ssl_server_name`,
    verifySetting: `${kind.prefix}_ssl_verify`,
  });
}

function useUpstream(
  ctx: PassContext,
  target: DoctorTarget,
  upstream: UpstreamBlock,
  tlsSettings: (host: string) => TlsSettings | undefined,
  scope: Scope,
  kind: PassKind,
  evidence: string,
): void {
  upstream.used = true;
  for (const server of upstream.servers) {
    const address = upstreamServer(server, tlsSettings);
    if (address) target.servers.push(address);
  }
  if (upstream.resolver) target.resolvers = resolverAddresses(upstream.resolver);
  const keepalive = upstreamKeepalive(upstream, scope, kind.prefix, kind.protocol);
  if (keepalive === undefined) return;
  if (keepalive.idleMs !== undefined) target.keepaliveIdleMs = keepalive.idleMs;
  target.keepalive = keepalive.reused;
  if (keepalive.missing === undefined) return;
  const line = upstream.keepalive!;
  ctx.notes.push({
    severity: 'info',
    check: 'config',
    target: target.upstream,
    title: `upstream ${upstream.name} has "keepalive" but nginx cannot reuse its connections: ${keepalive.missing}`,
    evidence: [`${line.file}:${line.line}: keepalive ${line.args.join(' ')};`, evidence],
    fix:
      kind.prefix === 'fastcgi'
        ? 'add "fastcgi_keep_conn on;" where fastcgi_pass is used'
        : 'add "proxy_http_version 1.1;" and "proxy_set_header Connection \\"\\";" where proxy_pass is used',
  });
}

function noResolverNote(
  ctx: PassContext,
  target: DoctorTarget,
  evidence: string,
  severity: 'critical' | 'warning',
): void {
  ctx.notes.push({
    severity,
    check: 'config',
    target: target.upstream,
    title:
      severity === 'critical'
        ? `${target.directive} resolves its host per request, but no resolver is defined`
        : `${target.directive} needs a resolver unless the variable names an upstream block, and none is defined`,
    evidence: [
      evidence,
      'no "resolver" directive in scope: nginx logs "no resolver defined to resolve ..." and answers 502',
    ],
    cause: 'dns',
    fix: 'add "resolver 127.0.0.53 valid=30s;" (or your DNS server) to the http block, or name an upstream block instead of a host',
  });
}

function isName(host: string | undefined): boolean {
  if (host === undefined || host.startsWith('unix:')) return false;
  const parsed = parseAddress(host);
  return parsed.kind === 'tcp' && isIP(parsed.host) === 0;
}

function stripPort(text: string): string {
  const parsed = parseAddress(text);
  return parsed.kind === 'tcp' ? parsed.host : text;
}
