import { isIP } from 'node:net';

/** A `host:port` address as Toxiproxy writes them: `127.0.0.1:8474`, `[::1]:80`, `:0` (every interface). */
export interface HostPort {
  /** '' means every interface (listen) or the local host (connect). */
  host: string;
  port: number;
}

/** Parses `host:port` / `[v6]:port`; returns undefined when it is not one. */
export function parseHostPort(text: string): HostPort | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return undefined;
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return undefined;
  } else if (host.includes(':')) {
    return undefined;
  }
  return { host, port };
}

/** `host:port`, bracketing IPv6 literals (RFC 3986 §3.2.2). */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
