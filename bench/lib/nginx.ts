import { BenchError } from './errors.js';

/** The body `/small` returns: 20 bytes, written into the config as an nginx string literal. */
export const SMALL_BODY = 'gatewise bench body\n';

/** Lines every config of the harness shares: its own pid, error log and temp paths inside `dir`. */
function commonHead(dir: string, name: string, runAsRoot: boolean): string[] {
  return [
    // As root the master would otherwise hand its workers to `nobody`, who cannot read the temp dir.
    ...(runAsRoot ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${dir}/${name}.pid;`,
    `error_log ${dir}/${name}-error.log warn;`,
    'worker_rlimit_nofile 8192;',
    'events { worker_connections 4096; }',
  ];
}

function tempPaths(dir: string, name: string): string[] {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (kind) => `  ${kind}_temp_path ${dir}/${name}-${kind}-temp;`,
  );
}

export interface BackendConfigOptions {
  dir: string;
  port: number;
  /** A second listener serving stub_status, so counting accepts does not touch the measured port. */
  statusPort: number;
  /** Directory holding the file served as `/1m`. */
  staticRoot: string;
  runAsRoot: boolean;
}

/** The backend every target forwards to: `/small` (SMALL_BODY) and `/1m` (a static file). */
export function backendConfig(o: BackendConfigOptions): string {
  const body = SMALL_BODY.replace(/\n/g, '\\n');
  return [
    ...commonHead(o.dir, 'backend', o.runAsRoot),
    'http {',
    '  access_log off;',
    '  sendfile on;',
    // High limits so no client (wrk or a proxy's pool) is made to reconnect during a run.
    '  keepalive_requests 100000;',
    '  keepalive_timeout 75s;',
    ...tempPaths(o.dir, 'backend'),
    '  server {',
    `    listen 127.0.0.1:${o.port} backlog=4096;`,
    `    location = /small { default_type text/plain; return 200 "${body}"; }`,
    `    location = /1m { root ${o.staticRoot}; default_type application/octet-stream; }`,
    '    location / { return 404; }',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${o.statusPort};`,
    '    location = /status { stub_status; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface ProxyConfigOptions {
  dir: string;
  port: number;
  backendPort: number;
  /** Idle upstream connections nginx keeps per worker (`upstream { keepalive N; }`). */
  keepalive: number;
  runAsRoot: boolean;
}

/** nginx as the reference reverse proxy: 1 worker, upstream keep-alive, access log off. */
export function proxyConfig(o: ProxyConfigOptions): string {
  return [
    ...commonHead(o.dir, 'proxy', o.runAsRoot),
    'http {',
    '  access_log off;',
    '  keepalive_requests 100000;',
    '  keepalive_timeout 75s;',
    ...tempPaths(o.dir, 'proxy'),
    '  upstream bench {',
    `    server 127.0.0.1:${o.backendPort};`,
    `    keepalive ${o.keepalive};`,
    // nginx closes a kept-alive upstream connection after 1000 requests by default; the Node
    // peers never do, so the same high limit keeps the comparison about proxying.
    '    keepalive_requests 100000;',
    '    keepalive_timeout 75s;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${o.port} backlog=4096;`,
    '    location / {',
    '      proxy_pass http://bench;',
    // Keep-alive to the upstream needs HTTP/1.1 and no "Connection: close" (nginx docs, upstream keepalive).
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Arguments that run nginx in the foreground on a config file, logging early errors inside `dir`. */
export function nginxArgs(dir: string, configFile: string, name: string): string[] {
  return ['-p', `${dir}/`, '-e', `${dir}/${name}-error.log`, '-c', configFile, '-g', 'daemon off;'];
}

/** The counters of nginx's stub_status page. */
export interface StubStatus {
  active: number;
  accepts: number;
  handled: number;
  requests: number;
}

/** Parses nginx's stub_status text (ngx_http_stub_status_module). */
export function parseStubStatus(text: string): StubStatus {
  const active = /Active connections:\s*(\d+)/.exec(text);
  const counters = /server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  if (active === null || counters === null) {
    throw new BenchError('GW_BENCH_STUB_STATUS', `not an nginx stub_status page: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return {
    active: Number(active[1]),
    accepts: Number(counters[1]),
    handled: Number(counters[2]),
    requests: Number(counters[3]),
  };
}

/**
 * Connections accepted between two stub_status reads. Each read opens its own connection and
 * is counted in its own page, so the second read adds exactly one to the difference.
 */
export function acceptedBetween(before: StubStatus, after: StubStatus): number {
  return after.accepts - before.accepts - 1;
}
