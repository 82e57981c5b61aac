/** nginx `upstream` blocks: their servers, and whether nginx really reuses connections to them. */
import type { ServerAddress, TargetProtocol, TlsSettings } from '../model.js';
import { parseAddress } from './addresses.js';
import type { Directive } from './parse.js';
import { last, type Scope, value, where } from './scope.js';
import { parseNginxTime } from './units.js';

export interface UpstreamBlock {
  name: string;
  directive: Directive;
  servers: Directive[];
  keepalive: Directive | undefined;
  keepaliveTimeout: Directive | undefined;
  resolver: Directive | undefined;
  used: boolean;
}

export function readUpstreamBlock(directive: Directive): UpstreamBlock | undefined {
  const name = directive.args[0];
  if (name === undefined || directive.block === undefined) return undefined;
  const inner = directive.block;
  return {
    name,
    directive,
    servers: inner.filter((entry) => entry.name === 'server'),
    keepalive: last(inner, 'keepalive'),
    keepaliveTimeout: last(inner, 'keepalive_timeout'),
    resolver: last(inner, 'resolver'),
    used: false,
  };
}

/** `server 127.0.0.1:5000 weight=2 backup;` (port 80 when none), or a unix socket. */
export function upstreamServer(
  server: Directive,
  tlsSettings: (host: string) => TlsSettings | undefined,
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

export interface UpstreamKeepalive {
  /** nginx keeps and reuses idle connections to the servers. */
  reused: boolean;
  /** keepalive_timeout of the block, when set. */
  idleMs: number | undefined;
  /** Why `keepalive N` has no effect here, when it has none. */
  missing: string | undefined;
}

/**
 * nginx reuses upstream connections only with `keepalive N` in the upstream block, and for
 * proxy_pass only when it speaks HTTP/1.1 without "Connection: close" (proxy_http_version 1.1 and
 * proxy_set_header Connection ""); fastcgi needs fastcgi_keep_conn on.
 */
export function upstreamKeepalive(
  upstream: UpstreamBlock,
  scope: Scope,
  prefix: string,
  protocol: TargetProtocol,
): UpstreamKeepalive | undefined {
  if (upstream.keepalive === undefined) return undefined;
  const idleMs = parseNginxTime(upstream.keepaliveTimeout?.args[0] ?? '');
  let missing: string | undefined;
  if (prefix === 'proxy' && protocol === 'http') {
    const version = value(scope, 'proxy_http_version')?.args[0] ?? '1.0';
    const clearsConnection = (scope.get('proxy_set_header') ?? []).some(
      (header) => header.args[0]?.toLowerCase() === 'connection' && (header.args[1] ?? '') === '',
    );
    if (version !== '1.1') missing = `proxy_http_version is ${version} (needs 1.1)`;
    else if (!clearsConnection)
      missing = 'proxy_set_header Connection "" is not set, so nginx sends "Connection: close"';
  } else if (prefix === 'fastcgi' && value(scope, 'fastcgi_keep_conn')?.args[0] !== 'on') {
    missing = 'fastcgi_keep_conn is off';
  }
  return { reused: missing === undefined, idleMs, missing };
}
