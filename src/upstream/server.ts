import { readFileSync } from 'node:fs';
import type { Pickable } from './balancers/index.js';

export type ServerKind = 'http' | 'https' | 'unix';

export interface ServerTls {
  ca?: string | undefined;
  servername?: string | undefined;
  insecure?: boolean | undefined;
}

export interface ServerSpec {
  url: string;
  /** A resolved address of the URL's host name to connect to (one server per DNS record). */
  connectHost?: string | undefined;
  weight: number;
  backup: boolean;
  tls?: ServerTls | undefined;
}

/** TLS options of an upstream server, built once (the CA file is read at config load). */
export interface UpstreamTlsOptions {
  ca: Buffer | undefined;
  servername: string | undefined;
  rejectUnauthorized: boolean;
  ALPNProtocols: string[];
}

/**
 * One upstream server: its address, TLS options, load and availability as balancers see them, and
 * the LIFO list of idle keep-alive connections (PERF-NOTES rule 6: the warmest socket first).
 */
export class UpstreamServer<C = unknown> implements Pickable {
  readonly index: number;
  readonly key: string;
  /** The weight balancers read: `baseWeight`, or less while slow start ramps it up. */
  weight: number;
  readonly baseWeight: number;
  readonly backup: boolean;
  readonly kind: ServerKind;
  readonly host: string;
  readonly port: number;
  readonly socketPath: string;
  /** `host:port` or the socket path: what logs and verbose errors call `next-hop`. */
  readonly address: string;
  readonly tls: UpstreamTlsOptions | undefined;
  inflight = 0;
  available = true;
  /** Idle pooled connections, most recently used last. */
  readonly idle: C[] = [];
  /** Open connections to this server (idle and busy). */
  open = 0;
  /**
   * Answer of the one-off TLS probe run when a fresh plain connection closed without a byte:
   * true = the port speaks TLS (an http:// URL pointing at an HTTPS port). Cached per server.
   */
  speaksTls: boolean | undefined;

  constructor(index: number, spec: ServerSpec, upstreamTls: ServerTls | undefined) {
    this.index = index;
    this.key = spec.connectHost ? `${spec.url}#${spec.connectHost}` : spec.url;
    this.weight = spec.weight;
    this.baseWeight = spec.weight;
    this.backup = spec.backup;
    const parsed = parseServerUrl(spec.url);
    this.kind = parsed.kind;
    this.host = spec.connectHost ?? parsed.host;
    this.port = parsed.port;
    this.socketPath = parsed.socketPath;
    this.address = parsed.kind === 'unix' ? `unix:${parsed.socketPath}` : `${formatHost(this.host)}:${parsed.port}`;
    if (parsed.kind === 'https') {
      const tls = { ...upstreamTls, ...spec.tls };
      this.tls = {
        ca: tls.ca ? readFileSync(tls.ca) : undefined,
        servername: tls.servername || (isIpAddress(parsed.host) ? undefined : parsed.host),
        rejectUnauthorized: tls.insecure !== true,
        ALPNProtocols: ['http/1.1'],
      };
    }
  }
}

export interface ParsedServerUrl {
  kind: ServerKind;
  host: string;
  port: number;
  socketPath: string;
}

export function parseServerUrl(url: string): ParsedServerUrl {
  if (url.startsWith('unix:')) return { kind: 'unix', host: '', port: 0, socketPath: url.slice('unix:'.length) };
  const u = new URL(url);
  const kind = u.protocol === 'https:' ? 'https' : 'http';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port ? Number(u.port) : kind === 'https' ? 443 : 80;
  return { kind, host, port, socketPath: '' };
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
