import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute } from 'node:path';
import { GatewayError } from '../errors.js';
import { showValue } from './units.js';

/** A `host:port` listen address, split. `host` carries no brackets (`::1`, not `[::1]`). */
export interface HostPort {
  host: string;
  port: number;
}

/** Where an upstream server is reached. */
export type ServerTarget = { kind: 'http' | 'https'; host: string; port: number } | { kind: 'unix'; path: string };

// RFC 1123 §2.1 host names: labels of letters, digits and inner hyphens (underscores tolerated,
// as resolvers accept them in practice).
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/** A DNS name or an IPv4 address; an all-numeric last label is never a name (RFC 3696 §2). */
export function isHostname(text: string): boolean {
  if (isIPv4(text)) return true;
  return HOSTNAME.test(text) && !/(^|\.)\d+\.?$/.test(text);
}

function addressError(text: string, why: string): GatewayError {
  return new GatewayError(
    'GW_CONFIG_ADDRESS',
    `expected host:port like "127.0.0.1:8080", got ${showValue(text)}${why}`,
  );
}

function parsePort(text: string, allowZero: boolean): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 && (allowZero || port > 0) ? port : undefined;
}

/**
 * `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`, `0.0.0.0:8080`. Port 0 asks the system for a
 * free port, which tests and `gatewise drill` rely on.
 */
export function parseHostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  if (colon === -1) throw addressError(text, ' (the port is missing)');
  let host = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1), true);
  if (port === undefined) throw addressError(text, ' (port must be 0..65535)');
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) throw addressError(text, ' (not an IPv6 address inside [ ])');
  } else if (host.includes(':')) {
    throw addressError(text, ' (write IPv6 addresses in brackets: "[::1]:8080")');
  } else if (!isHostname(host)) {
    throw addressError(text, ' (bad host)');
  }
  return { host: host.toLowerCase(), port };
}

/** The host a client would never reach from another machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase();
  return (
    bare === 'localhost' || bare === '::1' || (isIPv4(bare) && bare.startsWith('127.')) || bare === '::ffff:127.0.0.1'
  );
}

/** Unspecified addresses bind every interface of their family, so they collide with any host on that port. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function urlError(text: string, why: string): GatewayError {
  return new GatewayError(
    'GW_CONFIG_URL',
    `expected a server URL like "http://127.0.0.1:5001", "https://host:443" or "unix:/run/app.sock", got ${showValue(text)}${why}`,
  );
}

/**
 * `http://host:port`, `https://host:port` (ports default to 80/443) or `unix:/absolute/path.sock`.
 * A path or query is refused: which path reaches the upstream is the route's business.
 */
export function parseServerUrl(text: string): ServerTarget {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path.startsWith('//')) throw urlError(text, ' (write "unix:/path.sock" with one slash)');
    if (!isAbsolute(path)) throw urlError(text, ' (the socket path must be absolute)');
    return { kind: 'unix', path };
  }
  const scheme = /^(https?):\/\//i.exec(text);
  if (scheme === null) throw urlError(text, ' (scheme must be http://, https:// or unix:)');
  const kind = scheme[1]!.toLowerCase() as 'http' | 'https';
  const rest = text.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  if (end !== -1 && rest.slice(end) !== '/') throw urlError(text, ' (no path, query or fragment; routes decide paths)');
  if (authority.includes('@')) throw urlError(text, ' (credentials do not belong in the URL)');
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(authority);
  let host: string;
  let portText: string | undefined;
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (!isIPv6(host)) throw urlError(text, ' (not an IPv6 address inside [ ])');
  } else {
    const colon = authority.indexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
    if (!isHostname(host)) throw urlError(text, ' (bad host)');
  }
  const port = portText === undefined ? (kind === 'https' ? 443 : 80) : parsePort(portText, false);
  if (port === undefined) throw urlError(text, ' (port must be 1..65535)');
  return { kind, host: host.toLowerCase(), port };
}
