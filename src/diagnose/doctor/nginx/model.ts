/**
 * Reduces an nginx configuration to doctor's neutral model: every pass directive in the http and
 * stream blocks becomes a target (pass.ts), with nginx's inheritance (scope.ts) and defaults; plus
 * the listen addresses, logs, worker user and connection limits.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { DoctorModel, ListenAddress } from '../model.js';
import { parseListen } from './addresses.js';
import { type Directive, loadNginxConfig, type NginxConfig } from './parse.js';
import { addTarget, PASS_KINDS, type PassContext, STREAM_PASS } from './pass.js';
import { blocksNamed, last, type Scope, scopeOf, varsOf, where } from './scope.js';
import { readUpstreamBlock, type UpstreamBlock } from './upstream-block.js';

const DEFAULT_WORKER_CONNECTIONS = 512;

interface Context extends PassContext {
  upstreams: Map<string, UpstreamBlock>;
  listen: ListenAddress[];
}

export function loadNginxModel(file: string, healthPath = '/'): DoctorModel {
  return nginxModel(loadNginxConfig(file), healthPath);
}

export function nginxModel(config: NginxConfig, healthPath = '/'): DoctorModel {
  const ctx: Context = { upstreams: new Map(), targets: [], listen: [], notes: [], healthPath };
  for (const note of config.notes)
    ctx.notes.push({ severity: 'info', check: 'config', title: note.message, evidence: [`${note.file}:${note.line}`] });
  const main = config.directives;
  const rootScope = scopeOf(new Map(), main);
  for (const block of blocksNamed(main, 'http')) walkProtocolBlock(ctx, block, rootScope, false);
  for (const block of blocksNamed(main, 'stream')) walkProtocolBlock(ctx, block, rootScope, true);
  for (const upstream of ctx.upstreams.values()) {
    if (upstream.used) continue;
    const at = where(upstream.directive);
    ctx.notes.push({
      severity: 'info',
      check: 'config',
      target: upstream.name,
      title: `upstream ${upstream.name} is defined but no location uses it`,
      evidence: [`${at.file}:${at.line}: upstream ${upstream.name}`],
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

function walkProtocolBlock(ctx: Context, block: Directive, parent: Scope, stream: boolean): void {
  const directives = block.block!;
  for (const directive of blocksNamed(directives, 'upstream')) {
    const upstream = readUpstreamBlock(directive);
    if (upstream) ctx.upstreams.set(upstream.name, upstream);
  }
  const scope = scopeOf(parent, directives);
  for (const server of blocksNamed(directives, 'server')) {
    const inner = server.block!;
    const serverScope = scopeOf(scope, inner);
    const vars = varsOf(new Map(), inner);
    const serverName = last(inner, 'server_name')?.args[0];
    const label = `server ${serverName && serverName !== '_' ? serverName : `at ${server.file}:${server.line}`}`;
    if (stream) {
      const pass = last(inner, 'proxy_pass');
      if (pass) addTarget(ctx, pass, STREAM_PASS, serverScope, vars, label);
      continue;
    }
    collectListen(ctx, server);
    walkLocations(ctx, inner, serverScope, vars, label);
  }
}

function collectListen(ctx: Context, server: Directive): void {
  const listens = server.block!.filter((directive) => directive.name === 'listen');
  if (listens.length === 0) {
    // nginx's default for a server without listen (as root).
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
      if (kind) addTarget(ctx, directive, kind, scope, vars, label);
      continue;
    }
    if (directive.name !== 'location' && directive.name !== 'if' && directive.name !== 'limit_except') continue;
    const inner = directive.block;
    const innerLabel =
      directive.name === 'location' ? `${label.split(' location ')[0]} location ${directive.args.join(' ')}` : label;
    walkLocations(ctx, inner, scopeOf(scope, inner), varsOf(vars, inner), innerLabel);
  }
}

/** Every directive of these names anywhere in the configuration, with a literal path as first argument. */
function pathsOf(config: NginxConfig, accept: (name: string) => boolean): string[] {
  const paths: string[] = [];
  const visit = (directives: readonly Directive[]): void => {
    for (const directive of directives) {
      if (directive.block) visit(directive.block);
      const path = directive.args[0];
      if (path === undefined || !accept(directive.name)) continue;
      if (path === 'off' || path === 'stderr' || /^(syslog|memory):/.test(path) || path.includes('$')) continue;
      const absolute = resolve(config.prefix, path);
      if (!paths.includes(absolute)) paths.push(absolute);
    }
  };
  visit(config.directives);
  return paths;
}

function writePaths(config: NginxConfig): string[] {
  return pathsOf(config, (name) => name === 'error_log' || name === 'access_log' || name.endsWith('_temp_path'));
}

function errorLogs(config: NginxConfig): string[] {
  return pathsOf(config, (name) => name === 'error_log');
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
