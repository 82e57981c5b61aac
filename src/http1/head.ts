/** Bounds on a message head; every one is checked before the head completes (see checkPartialHead). */
export interface HeadLimits {
  /** Whole head including the start line, any leading empty lines and the final CRLF CRLF. */
  maxHeadBytes: number;
  /** Request line without its CRLF; exceeding it answers 414. */
  maxRequestLineBytes: number;
  /** Number of field lines; exceeding it answers 431. */
  maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = Object.freeze({
  maxHeadBytes: 16384,
  maxRequestLineBytes: 8192,
  maxHeaders: 100,
});

/**
 * Known field ids, so the proxy never compares names again. A plain enum: under isolatedModules tsc
 * would not inline a const enum anyway, and Biome refuses them.
 */
export enum Field {
  Other = 0,
  Host,
  ContentLength,
  TransferEncoding,
  Connection,
  KeepAlive,
  TE,
  Upgrade,
  ProxyConnection,
  Trailer,
  Expect,
  XForwardedFor,
  XForwardedProto,
  XForwardedHost,
  Forwarded,
  Via,
  XRequestId,
}

/** Which of the four request-target forms of RFC 9112 §3.2 the request used. */
export enum TargetForm {
  Origin = 0,
  Absolute,
  Authority,
  Asterisk,
}

/**
 * The parse result of one message head. One per connection and direction, reused: reset() keeps
 * the arrays, which are written by index and valid for [0, count).
 */
export class ParsedHead {
  text = '';
  headBytes = 0;
  method = '';
  target = '';
  targetForm: TargetForm = TargetForm.Origin;
  absoluteAuthority = '';
  /** 'http' or 'https' (lowercase) when the request used absolute-form, else ''. */
  absoluteScheme = '';
  statusCode = 0;
  reason = '';
  versionMinor = 1;
  /** Offset in text where the start line begins (after any skipped leading empty lines). */
  startLineStart = 0;
  startLineEnd = 0;
  count = 0;
  names: string[] = [];
  values: string[] = [];
  kinds: Field[] = [];
  lineStart: number[] = [];
  lineEnd: number[] = [];
  contentLength = -1;
  chunked = false;
  hasTransferEncoding = false;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
  connectionTokens: string[] = [];
  upgrade = '';
  expectContinue = false;
  host = '';
  keepAliveTimeoutS = -1;

  reset(): void {
    this.text = '';
    this.headBytes = 0;
    this.method = '';
    this.target = '';
    this.targetForm = TargetForm.Origin;
    this.absoluteAuthority = '';
    this.absoluteScheme = '';
    this.statusCode = 0;
    this.reason = '';
    this.versionMinor = 1;
    this.startLineStart = 0;
    this.startLineEnd = 0;
    this.count = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.hasTransferEncoding = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.connectionUpgrade = false;
    if (this.connectionTokens.length !== 0) this.connectionTokens.length = 0;
    this.upgrade = '';
    this.expectContinue = false;
    this.host = '';
    this.keepAliveTimeoutS = -1;
  }

  /**
   * True when field line i must not be forwarded: Connection, Keep-Alive, Proxy-Connection, TE and
   * Upgrade (RFC 9110 §7.6.1), and every field Connection names. Framing and routing fields
   * (Content-Length, Transfer-Encoding, Host) are never reported, even when Connection names them:
   * dropping them would change how the next hop delimits the message. Transfer-Encoding is left to
   * the caller, which relays chunked bodies unchanged and so keeps the field with them.
   */
  isHopByHop(i: number): boolean {
    switch (this.kinds[i]) {
      case Field.Connection:
      case Field.KeepAlive:
      case Field.ProxyConnection:
      case Field.TE:
      case Field.Upgrade:
        return true;
      case Field.Host:
      case Field.ContentLength:
      case Field.TransferEncoding:
        return false;
    }
    const tokens = this.connectionTokens;
    if (tokens.length === 0) return false;
    const name = this.names[i];
    if (name === undefined) return false;
    for (let t = 0; t < tokens.length; t++) {
      if (equalsLowercase(name, tokens[t]!)) return true;
    }
    return false;
  }

  /** The value of the first field of this kind, or undefined. */
  get(kind: Field): string | undefined {
    for (let i = 0; i < this.count; i++) if (this.kinds[i] === kind) return this.values[i];
    return undefined;
  }
}

/** ASCII case-insensitive equality of `s` with `lower`, which is already lowercase. */
export function equalsLowercase(s: string, lower: string): boolean {
  const n = s.length;
  if (n !== lower.length) return false;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

// Byte classes and name matching shared by the head parser and the chunked scanner; internal to
// src/http1 (index.ts does not export them).

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** tchar (RFC 9110 §5.6.2) */
export const C_TOKEN = 1;
/** field-vchar, SP and HTAB: VCHAR and obs-text (RFC 9110 §5.5) */
export const C_VALUE = 2;
/**
 * bytes allowed in a request-target: VCHAR but "#", as llhttp allows less "#"; never SP, CTL or
 * obs-text. A fragment is no part of a request-target (RFC 9112 §3.2), and a proxy that forwards
 * one leaves the next hop to decide where the path ends.
 */
export const C_TARGET = 4;
/** reg-name and IP-literal characters: unreserved, sub-delims and "%" (RFC 3986 §3.2.2) */
export const C_HOST = 8;
/** HEXDIG */
export const C_HEX = 16;

/** One class bit set per byte, built once at load. */
export const CHAR: Uint8Array = buildClasses();

function buildClasses(): Uint8Array {
  const table = new Uint8Array(256);
  const mark = (chars: string, bit: number): void => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)]! |= bit;
  };
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  mark(`${alnum}!#$%&'*+-.^_\`|~`, C_TOKEN);
  mark(`${alnum}-._~!$&'()*+,;=%`, C_HOST);
  mark('0123456789abcdefABCDEF', C_HEX);
  for (let c = 0x21; c <= 0x7e; c++) table[c]! |= C_VALUE | C_TARGET;
  table[0x23]! &= ~C_TARGET;
  for (let c = 0x80; c <= 0xff; c++) table[c]! |= C_VALUE;
  table[SP]! |= C_VALUE;
  table[HTAB]! |= C_VALUE;
  return table;
}

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

const hasLatin1Slice = typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === 'function';

/** buf[start, end) as a latin1 string: one byte per char code, so offsets match the buffer. */
export function latin1(buf: Buffer, start: number, end: number): string {
  // latin1Slice skips toString's encoding lookup and argument normalisation.
  return hasLatin1Slice ? (buf as unknown as Latin1Slicer).latin1Slice(start, end) : buf.toString('latin1', start, end);
}

/** ASCII case-insensitive: does text at s start with `lower` (already lowercase, letters and '-')? */
export function regionEqualsLowercase(text: string, s: number, lower: string): boolean {
  const n = lower.length;
  if (s + n > text.length) return false;
  for (let i = 0; i < n; i++) {
    // OR 0x20 folds A-Z onto a-z; the only other bytes it maps onto the literals' characters
    // are CTLs, which never reach a comparison.
    if ((text.charCodeAt(s + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The Field id of the name text[s, s + n), matched by length, then case-insensitively. */
export function matchField(text: string, s: number, n: number): Field {
  switch (n) {
    case 2:
      return regionEqualsLowercase(text, s, 'te') ? Field.TE : Field.Other;
    case 3:
      return regionEqualsLowercase(text, s, 'via') ? Field.Via : Field.Other;
    case 4:
      return regionEqualsLowercase(text, s, 'host') ? Field.Host : Field.Other;
    case 6:
      return regionEqualsLowercase(text, s, 'expect') ? Field.Expect : Field.Other;
    case 7:
      if (regionEqualsLowercase(text, s, 'upgrade')) return Field.Upgrade;
      return regionEqualsLowercase(text, s, 'trailer') ? Field.Trailer : Field.Other;
    case 9:
      return regionEqualsLowercase(text, s, 'forwarded') ? Field.Forwarded : Field.Other;
    case 10:
      if (regionEqualsLowercase(text, s, 'connection')) return Field.Connection;
      return regionEqualsLowercase(text, s, 'keep-alive') ? Field.KeepAlive : Field.Other;
    case 12:
      return regionEqualsLowercase(text, s, 'x-request-id') ? Field.XRequestId : Field.Other;
    case 14:
      return regionEqualsLowercase(text, s, 'content-length') ? Field.ContentLength : Field.Other;
    case 15:
      return regionEqualsLowercase(text, s, 'x-forwarded-for') ? Field.XForwardedFor : Field.Other;
    case 16:
      if (regionEqualsLowercase(text, s, 'x-forwarded-host')) return Field.XForwardedHost;
      return regionEqualsLowercase(text, s, 'proxy-connection') ? Field.ProxyConnection : Field.Other;
    case 17:
      if (regionEqualsLowercase(text, s, 'transfer-encoding')) return Field.TransferEncoding;
      return regionEqualsLowercase(text, s, 'x-forwarded-proto') ? Field.XForwardedProto : Field.Other;
    default:
      return Field.Other;
  }
}
