/** Where a log line says the upstream is, split into the parts the checks put into their commands. */
export interface Target {
  /** 'http', 'https', or undefined when the line gives no scheme. */
  scheme?: string;
  host?: string;
  port?: string;
  unixPath?: string;
}

/**
 * Reads "http://10.0.0.5:5000/path", "https://[::1]:8443", "tcp://10.0.2.1:80", "10.0.0.5:5000",
 * "unix:/run/app.sock", nginx's "http://unix:/run/app.sock:/path" and Gatewise's "unix:/run/app.sock".
 */
export function parseTarget(text: string | undefined): Target {
  if (text === undefined || text === '' || text === '-') return {};
  let rest = text.trim();
  const target: Target = {};
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name === 'http' || name === 'https') target.scheme = name;
    rest = rest.slice(scheme[0].length);
  }
  if (rest.startsWith('unix:')) {
    // nginx prints the URI after a second colon: "unix:/run/app.sock:/path".
    const path = rest.slice('unix:'.length);
    const uri = path.indexOf(':/');
    // FastCGI upstreams end in a bare colon: "fastcgi://unix:/run/php/php-fpm.sock:".
    target.unixPath = uri >= 0 ? path.slice(0, uri) : path.replace(/:$/, '');
    return target;
  }
  const authority = rest.split('/', 1)[0]!;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority);
  if (bracketed) {
    target.host = bracketed[1]!;
    if (bracketed[2] !== undefined) target.port = bracketed[2];
    return target;
  }
  const hostPort = /^([^:\s]+)(?::(\d+))?$/.exec(authority);
  if (hostPort) {
    target.host = hostPort[1]!;
    if (hostPort[2] !== undefined) target.port = hostPort[2];
    else if (target.scheme !== undefined) target.port = target.scheme === 'https' ? '443' : '80';
  }
  return target;
}

/** "10.0.0.5:5000", "[::1]:3000", "unix:/run/app.sock" or the host alone; '' when nothing is known. */
export function addressOf(target: Target): string {
  if (target.unixPath !== undefined) return `unix:${target.unixPath}`;
  if (target.host === undefined) return '';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === undefined ? host : `${host}:${target.port}`;
}

/** The well-known TLS ports, where an http:// upstream most likely meets a TLS server. */
const TLS_PORTS = new Set(['443', '8443', '9443', '6443']);

export function isTlsPort(target: Target): boolean {
  return target.port !== undefined && TLS_PORTS.has(target.port);
}

/** ::1 as the upstream: "localhost" resolved to IPv6 while many backends listen on 127.0.0.1 only. */
export function isIpv6Loopback(target: Target): boolean {
  return target.host === '::1';
}

/**
 * The upstream as explanations show it: the URL without its path ("http://10.0.0.5:5000",
 * "http://unix:/run/app.sock"), so failures of one server group together whatever the request path.
 */
export function upstreamLabel(text: string): string {
  const unix = /^([a-z][a-z0-9+.-]*:\/\/)?(unix:[^:]*[^:\s])/i.exec(text);
  if (unix) return `${unix[1] ?? ''}${unix[2]}`;
  const url = /^([a-z][a-z0-9+.-]*:\/\/)([^/]+)/i.exec(text);
  return url ? `${url[1]}${url[2]}` : text;
}
