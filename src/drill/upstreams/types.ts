/** Every way a test upstream can (mis)behave; the drill and the tests pick one by name. */
export const UPSTREAM_BEHAVIOURS = [
  'ok',
  'refuse',
  'hang',
  'reset',
  'close',
  'garbage',
  'huge_head',
  'cut_length',
  'cut_chunked',
  'slow_drip',
  'tls',
  'tls_self_signed',
  'tls_expired',
  'tls_wrong_host',
  'full_backlog',
  'plain_to_tls_400',
] as const;

export type UpstreamBehaviour = (typeof UPSTREAM_BEHAVIOURS)[number];

export interface UpstreamOptions {
  /** Listen on this unix socket path instead of 127.0.0.1 (a stale file at the path is replaced). */
  unixPath?: string;
  /** huge_head: size of the response head in bytes (default 64 KiB). */
  headBytes?: number;
  /** slow_drip: milliseconds between body bytes (default 200). */
  dripMs?: number;
  /** slow_drip: Content-Length of the dripped body (default 100). */
  dripBytes?: number;
  /** ok/tls: idle keep-alive timeout in seconds, also announced as `Keep-Alive: timeout=N`. */
  keepAliveTimeoutS?: number;
  /** ok/tls: returned in `X-Server` and in /echo, so a test sees which server answered. */
  name?: string;
  /** garbage: an SSH banner (default) or random binary bytes. */
  garbage?: 'ssh' | 'binary';
}

export interface StartedUpstream {
  readonly behaviour: UpstreamBehaviour;
  /** '127.0.0.1', or '' on a unix socket. */
  readonly host: string;
  /** The TCP port, or 0 on a unix socket. */
  readonly port: number;
  /** The unix socket path, when listening on one. */
  readonly socketPath: string | undefined;
  /** 'http://127.0.0.1:PORT', 'https://127.0.0.1:PORT' or 'unix:/path'. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Requests seen so far (request heads read, or upgrades). */
  readonly requests: number;
  /** Closes the server and every open socket (and any helper process); idempotent. */
  close(): Promise<void>;
}
