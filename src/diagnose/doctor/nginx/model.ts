/**
 * Reduces an nginx configuration to doctor's neutral model: for every proxy_pass / fastcgi_pass /
 * uwsgi_pass / scgi_pass / grpc_pass, the servers it reaches and the settings in force there, with
 * nginx's inheritance (a directive set in a block replaces the inherited one; array directives
 * such as proxy_set_header are inherited all or nothing) and its defaults.
 */

import { isIP } from 'node:net';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { DoctorModel, DoctorTarget, ListenAddress, ServerAddress, TargetProtocol, Where } from '../model.js';
import type { DoctorFinding } from '../types.js';
import { parseAddress, parseListen, splitPassUrl } from './addresses.js';
import { type Directive, loadNginxConfig, type NginxConfig } from './parse.js';
import { parseNginxSize, parseNginxTime } from './units.js';

/** nginx's defaults (ngx_http_proxy_module and friends). */
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_STREAM_TIMEOUT_MS = 600_000;
/** proxy_buffer_size defaults to one memory page: 4k on the platforms nginx is usually built for. */
const DEFAULT_BUFFER_BYTES = 4096;
const DEFAULT_UPSTREAM_KEEPALIVE_TIMEOUT_MS = 60_000;
const DEFAULT_WORKER_CONNECTIONS = 512;

interface PassKind {
  /** Directive prefix of the module's settings (proxy_read_timeout, fastcgi_read_timeout...). */
  prefix: string;
  schemes: readonly string[];
  /** Scheme assumed when the directive names a bare address. */
  bareScheme: string | undefined;
  protocolOf(scheme: string): TargetProtocol;
  tlsScheme: string | undefined;
}

/** The pass directives, table-driven: adding one is adding a row. */
const PASS_KINDS: Record<string, PassKind> = {
  proxy_pass: {
    prefix: 'proxy',
    schemes: ['http', 'https'],
    bareScheme: undefined,
    protocolOf: () => 'http',
    tlsScheme: 'https',
  },
  fastcgi_pass: {
    prefix: 'fastcgi',
    schemes: [],
    bareScheme: 'fastcgi',
    protocolOf: () => 'fastcgi',
    tlsScheme: undefined,
  },
  uwsgi_pass: {
    prefix: 'uwsgi',
    schemes: ['uwsgi', 'suwsgi'],
    bareScheme: 'uwsgi',
    protocolOf: () => 'uwsgi',
    tlsScheme: 'suwsgi',
  },
  scgi_pass: { prefix: 'scgi', schemes: [], bareScheme: 'scgi', protocolOf: () => 'scgi', tlsScheme: undefined },
  grpc_pass: {
    prefix: 'grpc',
    schemes: ['grpc', 'grpcs'],
    bareScheme: 'grpc',
    protocolOf: () => 'grpc',
    tlsScheme: 'grpcs',
  },
};

const STREAM_PASS: PassKind = {
  prefix: 'proxy',
  schemes: [],
  bareScheme: 'tcp',
  protocolOf: () => 'tcp',
  tlsScheme: undefined,
};

interface UpstreamBlock {
  name: string;
  directive: Directive;
  servers: Directive[];
  keepalive: Directive | undefined;
  keepaliveTimeout: Directive | undefined;
  resolver: Directive | undefined;
  used: boolean;
}

/** Settings in scope: the directives of each name that apply here. */
type Scope = ReadonlyMap<string, readonly Directive[]>;

interface Context {
  config: NginxConfig;
  upstreams: Map<string, UpstreamBlock>;
  targets: DoctorTarget[];
  listen: ListenAddress[];
  notes: DoctorFinding[];
  healthPath: string;
}

export function loadNginxModel(file: string, healthPath = '/'): DoctorModel {
  return nginxModel(loadNginxConfig(file), healthPath);
}

export function nginxModel(config: NginxConfig, healthPath = '/'): DoctorModel {
  const ctx: Context = { config, upstreams: new Map(), targets: [], listen: [], notes: [], healthPath };
  for (const note of config.notes)
    ctx.notes.push({
      severity: 'info',
      check: 'config',
      title: note.message,
      evidence: [`${note.file}:${note.line}`],
    });
  const main = config.directives;
  const rootScope = scopeOf(new Map(), main);
  for (const block of blocksNamed(main, 'http')) walkProtocolBlock(ctx, block, rootScope, false);
  for (const block of blocksNamed(main, 'stream')) walkProtocolBlock(ctx, block, rootScope, true);
  for (const upstream of ctx.upstreams.values()) {
    if (!upstream.used)
      ctx.notes.push({
        severity: 'info',
        check: 'config',
        target: upstream.name,
        title: `upstream ${upstream.name} is defined but no location uses it`,
        evidence: [`${where(upstream.directive).file}:${upstream.directive.line}: upstream ${upstream.name}`],
      });
  }
  return {
    kind: 'nginx',
    file: config.file,
    files: config.files,
    targets: ctx.targets,
    listen: ctx.listen,
    writePaths: writePaths(config),
    errorLogs: errorLogs(config),
    user: last(main, 'user')?.args[0],
    maxConnections: maxConnections(main),
    notes: ctx.notes,
  };
}

function blocksNamed(directives: readonly Directive[], name: string): Directive[] {
  return directives.filter((directive) => directive.name === name && directive.block !== undefined);
}

function last(directives: readonly Directive[], name: string): Directive | undefined {
  for (let i = directives.length - 1; i >= 0; i--) if (directives[i]!.name === name) return directives[i];
  return undefined;
}

/** A block's scope: the parent's, with every simple directive set in the block replacing the inherited list. */
function scopeOf(parent: Scope, block: readonly Directive[]): Scope {
  const scope = new Map(parent);
  const own = new Map<string, Directive[]>();
  for (const directive of block) {
    if (directive.block !== undefined || directive.name === 'set') continue;
    const list = own.get(directive.name);
    if (list) list.push(directive);
    else own.set(directive.name, [directive]);
  }
  for (const [name, list] of own) scope.set(name, list);
  return scope;
}

/** `set $name value` with a literal value, accumulated from server to location. */
function varsOf(parent: ReadonlyMap<string, string>, block: readonly Directive[]): Map<string, string> {
  const vars = new Map(parent);
  for (const directive of block) {
    const [name, value] = directive.args;
    if (directive.name === 'set' && name?.startsWith('$') && value !== undefined) vars.set(name.slice(1), value);
  }
  return vars;
}

function value(scope: Scope, name: string): Directive | undefined {
  return scope.get(name)?.at(-1);
}

function where(directive: Directive): Where {
  return { file: directive.file, line: directive.line };
}

function walkProtocolBlock(ctx: Context, block: Directive, parent: Scope, stream: boolean): void {
  const directives = block.block!;
  for (const upstream of blocksNamed(directives, 'upstream')) {
    const name = upstream.args[0];
    if (name === undefined) continue;
    const inner = upstream.block!;
    ctx.upstreams.set(name, {
      name,
      directive: upstream,
      servers: inner.filter((directive) => directive.name === 'server'),
      keepalive: last(inner, 'keepalive'),
      keepaliveTimeout: last(inner, 'keepalive_timeout'),
      resolver: last(inner, 'resolver'),
      used: false,
    });
  }
  const scope = scopeOf(parent, directives);
  for (const server of blocksNamed(directives, 'server')) {
    const serverScope = scopeOf(scope, server.block!);
    const serverVars = varsOf(new Map(), server.block!);
    if (!stream) collectListen(ctx, server);
    const serverName = last(server.block!, 'server_name')?.args[0];
    const label = `server ${serverName && serverName !== '_' ? serverName : `at ${server.file}:${server.line}`}`;
    if (stream) {
      const pass = last(server.block!, 'proxy_pass');
      if (pass) addTarget(ctx, pass, STREAM_PASS, serverScope, serverVars, label, true);
      continue;
    }
    walkLocations(ctx, server.block!, serverScope, serverVars, label);
  }
}

function collectListen(ctx: Context, server: Directive): void {
  const listens = server.block!.filter((directive) => directive.name === 'listen');
  if (listens.length === 0) {
    ctx.listen.push({ text: '*:80', host: '0.0.0.0', port: 80, where: where(server) });
    return;
  }
  for (const listen of listens) {
    const parsed = parseListen(listen.args[0] ?? '');
    if (parsed) ctx.listen.push({ text: listen.args[0]!, ...parsed, where: where(listen) });
  }
}

/** Locations, nested locations, and the `if` and `limit_except` blocks inside them. */
function walkLocations(
  ctx: Context,
  directives: readonly Directive[],
  scope: Scope,
  vars: ReadonlyMap<string, string>,
  label: string,
): void {
  for (const directive of directives) {
    if (directive.block === undefined) {
      const kind = PASS_KINDS[directive.name];
      if (kind) addTarget(ctx, directive, kind, scope, vars, label, false);
      continue;
    }
    if (directive.name !== 'location' && directive.name !== 'if' && directive.name !== 'limit_except') continue;
    const inner = directive.block;
    const innerLabel =
      directive.name === 'location' ? `${label.split(' location ')[0]} location ${directive.args.join(' ')}` : label;
    walkLocations(ctx, inner, scopeOf(scope, inner), varsOf(vars, inner), innerLabel);
  }
}

/** Replaces `$name` / `${name}` with literal `set` values; unknown variables stay. */
function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => vars.get(name) ?? whole);
}

function addTarget(
  ctx: Context,
  directive: Directive,
  kind: PassKind,
  scope: Scope,
  vars: ReadonlyMap<string, string>,
  label: string,
  stream: boolean,
): void {
  const raw = directive.args[0];
  if (raw === undefined) return;
  const at = where(directive);
  const evidence = `${at.file}:${at.line}: ${directive.name} ${raw};`;
  const usedBy = `${label} (${at.file}:${at.line})`;
  const split = splitPassUrl(substitute(raw, vars), kind.schemes, kind.bareScheme);
  if ('invalid' in split) {
    ctx.notes.push({ severity: 'warning', check: 'config', title: split.invalid, evidence: [evidence] });
    return;
  }
  const tls = kind.tlsScheme !== undefined && split.scheme === kind.tlsScheme;
  const prefix = kind.prefix;
  const time = (name: string, fallback: number): number => {
    const found = value(scope, `${prefix}_${name}`);
    return (found && parseNginxTime(found.args[0] ?? '')) ?? fallback;
  };
  const resolverDirective = value(scope, 'resolver');
  const target: DoctorTarget = {
    upstream: split.address,
    protocol: kind.protocolOf(split.scheme),
    servers: [],
    usedBy: [usedBy],
    directive: `${directive.name} ${raw}`,
    where: at,
    connectTimeoutMs: time('connect_timeout', DEFAULT_TIMEOUT_MS),
    readTimeoutMs: stream ? time('timeout', DEFAULT_STREAM_TIMEOUT_MS) : time('read_timeout', DEFAULT_TIMEOUT_MS),
    sendTimeoutMs: stream ? time('timeout', DEFAULT_STREAM_TIMEOUT_MS) : time('send_timeout', DEFAULT_TIMEOUT_MS),
    maxResponseHeaderBytes:
      parseNginxSize(value(scope, `${prefix}_buffer_size`)?.args[0] ?? '') ?? DEFAULT_BUFFER_BYTES,
    keepalive: false,
    keepaliveIdleMs: DEFAULT_UPSTREAM_KEEPALIVE_TIMEOUT_MS,
    honoursKeepAliveHint: false,
    healthPath: ctx.healthPath,
    resolvedAtStartup: false,
    resolvers: resolverDirective ? resolverDirective.args.filter((arg) => !arg.includes('=')) : [],
    settings: {
      connect: `${prefix}_connect_timeout`,
      read: stream ? 'proxy_timeout' : `${prefix}_read_timeout`,
      send: stream ? 'proxy_timeout' : `${prefix}_send_timeout`,
      headerLimit: `${prefix}_buffer_size`,
      keepaliveIdle: 'keepalive_timeout (in the upstream block)',
      resolver: 'resolver',
    },
  };
  const dynamic = split.address.includes('$');
  if (dynamic) {
    target.dynamic = `${directive.name} ${raw} depends on a variable set per request`;
    ctx.targets.push(target);
    // The value may name an upstream block (no resolver needed) or a host (resolver needed).
    if (target.resolvers.length === 0) noResolverNote(ctx, target, evidence, 'warning');
    return;
  }
  const variableHost = raw.includes('$');
  const parsed = parseAddress(split.address);
  if (parsed.kind === 'invalid') {
    ctx.notes.push({
      severity: 'warning',
      check: 'config',
      title: `${directive.name}: ${parsed.reason}`,
      evidence: [evidence],
    });
    return;
  }
  const sslSetting = (name: string): Directive | undefined => value(scope, `${prefix}_ssl_${name}`);
  const tlsSettings = (host: string) =>
    tls
      ? {
          sni: sslSetting('server_name')?.args[0] === 'on' ? (sslSetting('name')?.args[0] ?? split.address) : undefined,
          verify: sslSetting('verify')?.args[0] === 'on',
          verifyName: stripPort(sslSetting('name')?.args[0] ?? split.address) || host,
          caFile: sslSetting('trusted_certificate')?.args[0],
          sniSetting: `${prefix}_ssl_server_name`,
          verifySetting: `${prefix}_ssl_verify`,
        }
      : undefined;
  const upstream = parsed.kind === 'tcp' && parsed.port === undefined ? ctx.upstreams.get(parsed.host) : undefined;
  if (upstream) {
    upstream.used = true;
    for (const server of upstream.servers) {
      const address = upstreamServer(server, tlsSettings);
      if (address) target.servers.push(address);
    }
    target.resolvedAtStartup =
      !variableHost && upstream.servers.some((server) => !server.args.includes('resolve') && isName(server.args[0]));
    if (upstream.resolver) target.resolvers = upstream.resolver.args.filter((arg) => !arg.includes('='));
    applyKeepalive(ctx, target, upstream, scope, kind, evidence);
  } else if (parsed.kind === 'unix') {
    target.servers.push({
      kind: 'unix',
      path: parsed.path,
      text: `unix:${parsed.path}`,
      where: at,
      backup: false,
      down: false,
    });
  } else if (parsed.kind === 'tcp') {
    if (parsed.port === undefined && kind.bareScheme !== undefined && !tls && split.scheme !== 'grpc') {
      ctx.notes.push({
        severity: 'warning',
        check: 'config',
        title: `${directive.name} ${raw}: no port and no upstream named "${parsed.host}"`,
        evidence: [evidence],
      });
      return;
    }
    const port = parsed.port ?? (tls ? 443 : 80);
    target.servers.push({
      kind: 'tcp',
      host: parsed.host,
      port,
      text: `${parsed.host}:${port}`,
      where: at,
      backup: false,
      down: false,
      tls: tlsSettings(parsed.host),
    });
    // A host name in a proxy_pass without variables is resolved once, when nginx starts; with
    // variables it is resolved per request through `resolver`.
    target.resolvedAtStartup = !variableHost && isName(parsed.host);
    if (variableHost && isName(parsed.host) && target.resolvers.length === 0)
      noResolverNote(ctx, target, evidence, 'critical');
  }
  ctx.targets.push(target);
}

function noResolverNote(ctx: Context, target: DoctorTarget, evidence: string, severity: 'critical' | 'warning'): void {
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

function upstreamServer(
  server: Directive,
  tlsSettings: (host: string) => DoctorTarget['servers'][number]['tls'],
): ServerAddress | undefined {
  const text = server.args[0];
  if (text === undefined) return undefined;
  const parsed = parseAddress(text);
  const base = {
    text,
    where: where(server),
    backup: server.args.includes('backup'),
    down: server.args.includes('down'),
  };
  if (parsed.kind === 'unix') return { kind: 'unix', path: parsed.path, ...base };
  if (parsed.kind !== 'tcp') return undefined;
  return { kind: 'tcp', host: parsed.host, port: parsed.port ?? 80, ...base, tls: tlsSettings(parsed.host) };
}

/**
 * nginx reuses upstream connections only with `keepalive N` in the upstream block, and for
 * proxy_pass only when it speaks HTTP/1.1 without "Connection: close" (proxy_http_version 1.1 and
 * proxy_set_header Connection ""); fastcgi needs fastcgi_keep_conn on.
 */
function applyKeepalive(
  ctx: Context,
  target: DoctorTarget,
  upstream: UpstreamBlock,
  scope: Scope,
  kind: PassKind,
  evidence: string,
): void {
  if (upstream.keepalive === undefined) return;
  const timeout = parseNginxTime(upstream.keepaliveTimeout?.args[0] ?? '');
  if (timeout !== undefined) target.keepaliveIdleMs = timeout;
  let missing: string | undefined;
  if (kind.prefix === 'proxy' && target.protocol === 'http') {
    const version = value(scope, 'proxy_http_version')?.args[0] ?? '1.0';
    const clearsConnection = (scope.get('proxy_set_header') ?? []).some(
      (header) => header.args[0]?.toLowerCase() === 'connection' && (header.args[1] ?? '') === '',
    );
    if (version !== '1.1') missing = `proxy_http_version is ${version} (needs 1.1)`;
    else if (!clearsConnection)
      missing = 'proxy_set_header Connection "" is not set, so nginx sends "Connection: close"';
  } else if (kind.prefix === 'fastcgi' && value(scope, 'fastcgi_keep_conn')?.args[0] !== 'on') {
    missing = 'fastcgi_keep_conn is off';
  }
  if (missing === undefined) {
    target.keepalive = true;
    return;
  }
  ctx.notes.push({
    severity: 'info',
    check: 'config',
    target: target.upstream,
    title: `upstream ${upstream.name} has "keepalive" but nginx cannot reuse its connections: ${missing}`,
    evidence: [
      `${upstream.keepalive.file}:${upstream.keepalive.line}: keepalive ${upstream.keepalive.args.join(' ')};`,
      evidence,
    ],
    fix:
      kind.prefix === 'fastcgi'
        ? 'add "fastcgi_keep_conn on;" where fastcgi_pass is used'
        : 'add "proxy_http_version 1.1;" and "proxy_set_header Connection \\"\\";" where proxy_pass is used',
  });
}

function writePaths(config: NginxConfig): string[] {
  const paths = new Set<string>();
  const visit = (directives: readonly Directive[]): void => {
    for (const directive of directives) {
      if (directive.block) visit(directive.block);
      const path = directive.args[0];
      if (path === undefined) continue;
      const isLog = directive.name === 'error_log' || directive.name === 'access_log';
      if (!isLog && !directive.name.endsWith('_temp_path')) continue;
      if (path === 'off' || path === 'stderr' || /^(syslog|memory):/.test(path) || path.includes('$')) continue;
      paths.add(resolve(config.prefix, path));
    }
  };
  visit(config.directives);
  return [...paths];
}

function errorLogs(config: NginxConfig): string[] {
  const logs: string[] = [];
  const visit = (directives: readonly Directive[]): void => {
    for (const directive of directives) {
      if (directive.block) visit(directive.block);
      const path = directive.args[0];
      if (directive.name !== 'error_log' || path === undefined) continue;
      if (path === 'stderr' || /^(syslog|memory):/.test(path)) continue;
      const absolute = resolve(config.prefix, path);
      if (!logs.includes(absolute)) logs.push(absolute);
    }
  };
  visit(config.directives);
  return logs;
}

function maxConnections(main: readonly Directive[]): DoctorModel['maxConnections'] {
  const events = blocksNamed(main, 'events')[0];
  const perProcess = Number(last(events?.block ?? [], 'worker_connections')?.args[0] ?? DEFAULT_WORKER_CONNECTIONS);
  const workersText = last(main, 'worker_processes')?.args[0] ?? '1';
  const workers = workersText === 'auto' ? cpus().length : Number(workersText);
  if (!Number.isFinite(perProcess) || !Number.isFinite(workers)) return undefined;
  const setting = `worker_connections ${perProcess} × worker_processes ${workersText}`;
  const rlimit = Number(last(main, 'worker_rlimit_nofile')?.args[0] ?? Number.NaN);
  return {
    count: perProcess * workers,
    perProcess,
    setting,
    ...(Number.isFinite(rlimit) ? { rlimitNofile: rlimit } : {}),
  };
}
