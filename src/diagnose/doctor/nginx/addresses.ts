/**
 * The addresses nginx directives name: `server` entries of upstream blocks, the URL of proxy_pass
 * and the bare addresses of fastcgi_pass / uwsgi_pass / scgi_pass / grpc_pass, and `listen`.
 */

/** host:port, unix:/path, or an upstream name (host without port) that the caller looks up. */
export type ParsedAddress =
  | { kind: 'tcp'; host: string; port: number | undefined }
  | { kind: 'unix'; path: string }
  | { kind: 'invalid'; reason: string };

/** `127.0.0.1:9000`, `[::1]:8080`, `backend`, `unix:/run/app.sock` (and `unix:/path:` with a trailing colon). */
export function parseAddress(text: string): ParsedAddress {
  if (text.startsWith('unix:')) {
    const rest = text.slice('unix:'.length);
    const colon = rest.indexOf(':');
    const path = colon === -1 ? rest : rest.slice(0, colon);
    return path === '' ? { kind: 'invalid', reason: 'no socket path after "unix:"' } : { kind: 'unix', path };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) return tcp(bracketed[1]!, bracketed[2]);
  const colon = text.lastIndexOf(':');
  if (colon === -1) return text === '' ? { kind: 'invalid', reason: 'empty address' } : tcp(text, undefined);
  return tcp(text.slice(0, colon), text.slice(colon + 1));
}

function tcp(host: string, portText: string | undefined): ParsedAddress {
  if (host === '') return { kind: 'invalid', reason: 'empty host' };
  if (portText === undefined) return { kind: 'tcp', host: host.toLowerCase(), port: undefined };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) return { kind: 'invalid', reason: `bad port "${portText}"` };
  return { kind: 'tcp', host: host.toLowerCase(), port };
}

export interface ParsedPassUrl {
  scheme: string;
  /** The address part (between `scheme://` and the URI), variables already substituted where known. */
  address: string;
}

/**
 * Splits `http://backend:8080/uri` or `http://unix:/run/app.sock:/uri` into scheme and address.
 * `schemes` lists what the directive accepts; a directive that takes bare addresses passes
 * `optionalScheme` with the default.
 */
export function splitPassUrl(
  text: string,
  schemes: readonly string[],
  optionalScheme: string | undefined,
): ParsedPassUrl | { invalid: string } {
  const match = /^([a-z]+):\/\//i.exec(text);
  let scheme: string;
  let rest: string;
  if (match === null) {
    if (optionalScheme === undefined) return { invalid: `invalid URL prefix in "${text}"` };
    scheme = optionalScheme;
    rest = text;
  } else {
    scheme = match[1]!.toLowerCase();
    if (!schemes.includes(scheme)) return { invalid: `unsupported scheme "${scheme}://" in "${text}"` };
    rest = text.slice(match[0].length);
  }
  if (rest.startsWith('unix:')) {
    // The socket path ends at the next colon; what follows is the URI.
    const colon = rest.indexOf(':', 'unix:'.length);
    return { scheme, address: colon === -1 ? rest : rest.slice(0, colon) };
  }
  const slash = rest.indexOf('/');
  return { scheme, address: slash === -1 ? rest : rest.slice(0, slash) };
}

export interface ParsedListen {
  host: string;
  port: number;
}

/** `listen 8080`, `listen 127.0.0.1:8080 ssl`, `listen [::]:80`, `listen *:80`; unix listeners are left out. */
export function parseListen(text: string): ParsedListen | undefined {
  if (text.startsWith('unix:')) return undefined;
  if (/^\d+$/.test(text)) return { host: '0.0.0.0', port: Number(text) };
  const parsed = parseAddress(text);
  if (parsed.kind !== 'tcp') return undefined;
  const host = parsed.host === '*' ? '0.0.0.0' : parsed.host;
  return { host, port: parsed.port ?? 80 };
}
