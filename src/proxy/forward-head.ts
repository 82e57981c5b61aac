/**
 * The two heads the proxy writes: the request head sent upstream and the response head sent to the
 * client. Field lines that pass through unchanged are copied as the original text in contiguous runs
 * (PERF-NOTES rule 4); only hop-by-hop fields, forwarding fields and route edits are rebuilt.
 */
import { Field, type ParsedHead } from '../http1/index.js';
import type { CompiledHeaderEdits } from './header-rules.js';

/** What the downstream connection knows about its client, computed once per connection. */
export interface ClientFacts {
  /** Client IP as seen on the socket (IPv4-mapped IPv6 unwrapped). */
  readonly clientAddress: string;
  /** `for=` value of RFC 7239 (IPv6 quoted and bracketed), precomputed. */
  readonly forwardedFor: string;
  /** The client is in `trust_proxies`: its X-Forwarded-* and Forwarded values are kept and extended. */
  readonly trusted: boolean;
  readonly proto: 'http' | 'https';
  /**
   * The forwarding lines last built for this client and host (untrusted clients: they do not depend on
   * the request otherwise). A connection's requests almost always repeat the host, so the lines are
   * built once per connection, not once per request.
   */
  readonly forwardingCache: { host: string; lines: string };
}

export interface RequestHeadParts {
  method: string;
  target: string;
  /** Host the client asked for (from Host, or the absolute-form authority). */
  host: string;
  requestId: string;
  /** The request-id header as configured (`X-Request-Id` by default). */
  requestIdHeader: string;
  /** Its lowercased name when it is not x-request-id, else ''. */
  requestIdLower: string;
  /** `1.1 gatewise` — the Via entry this hop adds (RFC 9110 §7.6.3). */
  via: string;
  chunked: boolean;
  upgrade: boolean;
  /** `HTTP/1.1`, or `HTTP/1.0` for an HTTP/1.0 client (so the answer needs no chunked decoding). */
  version: 'HTTP/1.1' | 'HTTP/1.0';
}

/**
 * Fields this hop always rebuilds rather than copies: the forwarding fields, the request id, and
 * Transfer-Encoding (framing is re-declared by this hop; the chunked bytes themselves pass as is).
 */
const REBUILT = new Uint8Array(32);
for (const kind of [
  Field.XForwardedFor,
  Field.XForwardedProto,
  Field.XForwardedHost,
  Field.Forwarded,
  Field.XRequestId,
  Field.TransferEncoding,
]) {
  REBUILT[kind] = 1;
}

/**
 * Whether field `i` passes unchanged. Besides hop-by-hop and rebuilt fields, drops the names removed
 * by route rules (lowercased), Host when an absolute-form authority replaces it, and a non-default
 * request-id header (`requestIdLower`, '' when it is x-request-id, a rebuilt kind already).
 */
function keepField(
  head: ParsedHead,
  i: number,
  names: ReadonlySet<string> | null,
  dropHost: boolean,
  requestIdLower: string,
): boolean {
  const kind = head.kinds[i]!;
  if (REBUILT[kind] === 1 || head.isHopByHop(i)) return false;
  if (kind === Field.Host && dropHost) return false;
  if (names === null && requestIdLower === '') return true;
  const lower = head.names[i]!.toLowerCase();
  return !(names?.has(lower) || lower === requestIdLower);
}

/** The unchanged field lines of `head`, in order, as runs of the original text. */
function copyKeptLines(
  head: ParsedHead,
  names: ReadonlySet<string> | null,
  dropHost: boolean,
  requestIdLower: string,
): string {
  let out = '';
  let runStart = -1;
  const count = head.count;
  for (let i = 0; i < count; i++) {
    if (keepField(head, i, names, dropHost, requestIdLower)) {
      if (runStart < 0) runStart = head.lineStart[i]!;
    } else if (runStart >= 0) {
      out += head.text.slice(runStart, head.lineStart[i]!);
      runStart = -1;
    }
  }
  if (runStart >= 0) out += head.text.slice(runStart, head.lineEnd[count - 1]!);
  return out;
}

function joinedValues(head: ParsedHead, kind: Field): string {
  let out = '';
  for (let i = 0; i < head.count; i++) {
    if (head.kinds[i] === kind) out = out === '' ? head.values[i]! : `${out}, ${head.values[i]!}`;
  }
  return out;
}

export function buildRequestHead(
  head: ParsedHead,
  parts: RequestHeadParts,
  client: ClientFacts,
  edits: CompiledHeaderEdits,
): string {
  const replaceHost = head.absoluteAuthority !== '';
  let out = `${parts.method} ${parts.target} ${parts.version}\r\n`;
  out += copyKeptLines(head, edits.drop, replaceHost, parts.requestIdLower);
  if (replaceHost) out += `Host: ${head.absoluteAuthority}\r\n`;

  // RFC 7239 and the de-facto X-Forwarded-* headers: values from an untrusted client are replaced,
  // never extended, so a client cannot forge its own address.
  if (client.trusted) {
    out += forwardingLines(
      client,
      parts.host,
      joinedValues(head, Field.XForwardedFor),
      joinedValues(head, Field.XForwardedProto),
      joinedValues(head, Field.XForwardedHost),
      joinedValues(head, Field.Forwarded),
    );
  } else {
    const cache = client.forwardingCache;
    if (cache.lines === '' || cache.host !== parts.host) {
      cache.host = parts.host;
      cache.lines = forwardingLines(client, parts.host, '', '', '', '');
    }
    out += cache.lines;
  }
  out += `Via: ${parts.via}\r\n`;
  out += `${parts.requestIdHeader}: ${parts.requestId}\r\n`;
  if (parts.upgrade) out += `Connection: upgrade\r\nUpgrade: ${head.upgrade}\r\n`;
  if (parts.chunked) out += 'Transfer-Encoding: chunked\r\n';
  return `${out}${edits.append}\r\n`;
}

export interface ResponseHeadParts {
  requestId: string;
  requestIdHeader: string;
  requestIdLower: string;
  via: string;
  /** Relay the upstream's chunked framing as is. */
  chunked: boolean;
  /** 101 Switching Protocols: keep Connection/Upgrade. */
  upgrade: boolean;
  /** '' | 'close' | 'keep-alive': the Connection field this hop sends to its client. */
  connection: '' | 'close' | 'keep-alive';
}

export function buildResponseHead(res: ParsedHead, parts: ResponseHeadParts, edits: CompiledHeaderEdits): string {
  let out =
    res.versionMinor === 1 ? res.text.slice(0, res.startLineEnd) : `HTTP/1.1 ${res.statusCode} ${res.reason}\r\n`;
  out += copyKeptLines(res, edits.drop, false, parts.requestIdLower);
  if (parts.chunked) out += 'Transfer-Encoding: chunked\r\n';
  if (parts.upgrade) out += `Connection: upgrade\r\nUpgrade: ${res.upgrade}\r\n`;
  else if (parts.connection !== '') out += `Connection: ${parts.connection}\r\n`;
  out += `Via: ${parts.via}\r\n${parts.requestIdHeader}: ${parts.requestId}\r\n`;
  return `${out}${edits.append}\r\n`;
}

/** X-Forwarded-For/-Proto/-Host and Forwarded lines, extending the prior values when given. */
export function forwardingLines(
  client: ClientFacts,
  host: string,
  priorFor: string,
  priorProto: string,
  priorHost: string,
  priorForwarded: string,
): string {
  let out = `X-Forwarded-For: ${priorFor === '' ? client.clientAddress : `${priorFor}, ${client.clientAddress}`}\r\n`;
  out += `X-Forwarded-Proto: ${priorProto === '' ? client.proto : priorProto}\r\n`;
  if (host !== '') out += `X-Forwarded-Host: ${priorHost === '' ? host : priorHost}\r\n`;
  const forwarded = `for=${client.forwardedFor};proto=${client.proto}${host === '' ? '' : `;host=${quoteForwarded(host)}`}`;
  return `${out}Forwarded: ${priorForwarded === '' ? forwarded : `${priorForwarded}, ${forwarded}`}\r\n`;
}

/** RFC 7239 §4: a value that is not a token must be a quoted-string. */
function quoteForwarded(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** `for=` node of RFC 7239 §6: IPv6 addresses are bracketed and quoted. */
export function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}
