/**
 * The neutral model doctor checks read: the upstream targets of a gateway configuration, whether it
 * came from nginx or from Gatewise, with the settings that decide how each failure shows.
 */
import type { ClusterFacts } from './cluster-model.js';
import type { DoctorFinding } from './types.js';

/** A place in a configuration file; line 0 when unknown. */
export interface Where {
  file: string;
  line: number;
}

export function whereText(where: Where): string {
  return where.line > 0 ? `${where.file}:${where.line}` : where.file;
}

/** How the gateway speaks TLS to one server. */
export interface TlsSettings {
  /** The SNI name sent, or undefined when none is sent (nginx's proxy_ssl_server_name off). */
  sni: string | undefined;
  /** The gateway rejects a certificate that fails verification. */
  verify: boolean;
  /** The name the certificate must carry. */
  verifyName: string;
  /** PEM file of trusted CAs; undefined = the system's. */
  caFile: string | undefined;
  /** Setting names as the user writes them, for evidence and fixes. */
  sniSetting: string;
  verifySetting: string;
}

interface ServerBase {
  /** As written in the configuration ("127.0.0.1:5000", "http://api:80", "unix:/run/app.sock"). */
  text: string;
  where: Where;
  backup: boolean;
  down: boolean;
}

export interface TcpServer extends ServerBase {
  kind: 'tcp';
  host: string;
  port: number;
  /** Present when the gateway speaks TLS to this server. */
  tls?: TlsSettings;
}

export interface UnixServer extends ServerBase {
  kind: 'unix';
  path: string;
  tls?: TlsSettings;
}

export type ServerAddress = TcpServer | UnixServer;

/** What the gateway speaks to the target; `tcp` is nginx's stream proxy (bytes, no HTTP). */
export type TargetProtocol = 'http' | 'fastcgi' | 'uwsgi' | 'scgi' | 'grpc' | 'tcp';

/** One use of an upstream: the servers and the settings in force where they are used. */
export interface DoctorTarget {
  /** Upstream group name, or the host:port of a proxy_pass without an upstream block. */
  upstream: string;
  protocol: TargetProtocol;
  servers: ServerAddress[];
  /** Where it is used, for evidence ("location /api (/etc/nginx/conf.d/app.conf:12)"). */
  usedBy: string[];
  /** The directive or key that names the target, and where. */
  directive: string;
  where: Where;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  sendTimeoutMs: number;
  /** Largest response head the gateway accepts. */
  maxResponseHeaderBytes: number;
  /** Idle upstream connections are kept and reused. */
  keepalive: boolean;
  /** How long the gateway keeps an idle upstream connection. */
  keepaliveIdleMs: number;
  /** The gateway closes idle connections before the server's advertised `Keep-Alive: timeout=` (Gatewise does, nginx does not). */
  honoursKeepAliveHint: boolean;
  healthPath: string;
  /** Host names in the servers are resolved once at start-up (nginx without `resolve`). */
  resolvedAtStartup: boolean;
  /** Resolvers configured for run-time resolution (nginx `resolver`). */
  resolvers: string[];
  /** Set when the target depends on a run-time variable doctor cannot evaluate. */
  dynamic?: string;
  /** Setting names as the user writes them. */
  settings: {
    connect: string;
    read: string;
    send: string;
    headerLimit: string;
    keepaliveIdle: string;
    resolver: string;
  };
}

export interface ListenAddress {
  text: string;
  /** The admin API's address rather than a client-facing listener. */
  admin?: boolean;
  host: string;
  port: number;
  where: Where;
}

export interface DoctorModel {
  kind: 'nginx' | 'gatewise';
  file: string;
  /** Every file read (the main one and its includes). */
  files: string[];
  targets: DoctorTarget[];
  /** Addresses the gateway itself accepts clients on. */
  listen: ListenAddress[];
  /** Log and temp files the gateway writes (for disk space). */
  writePaths: string[];
  /** Error logs the configuration names (offered for --error-log). */
  errorLogs: string[];
  /** The user the gateway's workers run as (nginx `user`); undefined = the current user. */
  user: string | undefined;
  /** Connections the gateway may hold open at once, when the configuration says (nginx worker_connections × workers). */
  maxConnections?: { count: number; setting: string; perProcess: number; rlimitNofile?: number };
  /** Findings the reader itself made (include matched nothing, no resolver for a variable). */
  notes: DoctorFinding[];
  /** A cluster node's file: where the shared configuration and state live. */
  cluster?: ClusterFacts;
}

/** "api: 127.0.0.1:5000", the `target` of findings about one server. */
export function targetLabel(target: DoctorTarget, server?: ServerAddress): string {
  if (server === undefined || server.text === target.upstream) return target.upstream;
  return `${target.upstream}: ${server.text}`;
}

/** The address as a URL-ish text the user recognises: scheme only where it matters. */
export function serverText(server: ServerAddress): string {
  if (server.kind === 'unix') return `unix:${server.path}`;
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return `${host}:${server.port}`;
}
