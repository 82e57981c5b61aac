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

/** Known field ids, so the proxy never compares names again. */
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
