import { type HttpParseCode, HttpParseError } from './errors.js';
import {
  C_HOST,
  C_TARGET,
  C_TOKEN,
  C_VALUE,
  CHAR,
  COLON,
  CR,
  Field,
  type HeadLimits,
  HTAB,
  LF,
  latin1,
  matchField,
  type ParsedHead,
  regionEqualsLowercase,
  SP,
  TargetForm,
} from './head.js';

/**
 * RFC 9112 §2.2 lets a server skip empty lines before the request line ("at least one"); a few are
 * tolerated, an endless stream of them is not.
 */
const MAX_LEADING_EMPTY_LINES = 8;
const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Transfer-Encoding state carried across field lines: bit 1 chunked seen, bit 2 chunked is last. */
const TE_CHUNKED_SEEN = 1;
const TE_CHUNKED_LAST = 2;

function fail(code: HttpParseCode, status: number, isRequest: boolean, message: string): never {
  throw new HttpParseError(code, isRequest ? status : 502, message);
}

/**
 * Index just past the blank line ending a head that starts at `start`, searching from `from`
 * (>= start; lets the caller resume after a partial read without rescanning), or -1 when not there
 * yet. Leading CR/LF bytes are skipped (RFC 9112 §2.2). A head whose lines end in bare LF is also
 * reported as complete at its LF LF, so that the parser refuses it at once instead of waiting for
 * a CRLF CRLF that will never come.
 */
export function findHeadEnd(buf: Buffer, start: number, from: number, end: number): number {
  let s = start;
  while (s < end && (buf[s] === CR || buf[s] === LF)) s++;
  // i is where the terminator's final LF may be. Every terminator (LF LF, LF CR LF, CR LF CR LF)
  // ending at i or i + 1 holds the byte at i, so when that byte is neither CR nor LF the search
  // moves on by two.
  let i = Math.max(from, s + 1);
  while (i < end) {
    const c = buf[i];
    if (c === LF) {
      const p = buf[i - 1];
      if (p === LF || (p === CR && buf[i - 2] === LF)) return i + 1;
      i++;
    } else if (c === CR) {
      i++;
    } else {
      i += 2;
    }
  }
  return -1;
}

/**
 * Called when findHeadEnd returned -1: throws 414/431 (502 for responses) when the bytes buffered
 * so far (buf[start,end)) already exceed the request-line or head limits, so an oversized or
 * slowly dripped head is refused before it completes. isRequest=false checks only maxHeadBytes.
 */
export function checkPartialHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
  isRequest: boolean,
): void {
  if (isRequest) {
    let s = start;
    while (s < end && (buf[s] === CR || buf[s] === LF)) s++;
    const maxLine = limits.maxRequestLineBytes;
    // Only when more than a whole request line is buffered can the line be too long; then look
    // for its end within the first maxLine + 1 bytes.
    if (end - s > maxLine) {
      const stop = s + maxLine + 1;
      let i = s;
      while (i < stop && buf[i] !== CR && buf[i] !== LF) i++;
      if (i === stop) fail('HPE_URI_TOO_LONG', 414, true, 'request line too long');
    }
  }
  if (end - start > limits.maxHeadBytes) fail('HPE_HEAD_TOO_LARGE', 431, isRequest, 'head too large');
}

/** Skips leading empty lines; returns the offset of the start line. */
function skipEmptyLines(text: string, isRequest: boolean): number {
  let pos = 0;
  let lines = 0;
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c === CR) {
      if (text.charCodeAt(pos + 1) !== LF) fail('HPE_BARE_CR', 400, isRequest, 'CR without LF');
      if (++lines > MAX_LEADING_EMPTY_LINES) {
        fail('HPE_LEADING_EMPTY_LINES', 400, isRequest, 'too many empty lines before the start line');
      }
      pos += 2;
    } else if (c === LF) {
      fail('HPE_BARE_LF', 400, isRequest, 'LF without CR');
    } else {
      return pos;
    }
  }
}

/** Checks that the start line ends at `pos` with CRLF; returns the offset past it. */
function expectLineEnd(text: string, pos: number, code: HttpParseCode, isRequest: boolean): number {
  const c = text.charCodeAt(pos);
  if (c !== CR) {
    if (c === LF) fail('HPE_BARE_LF', 400, isRequest, 'LF without CR');
    fail(code, 400, isRequest, 'unexpected character at the end of the start line');
  }
  if (text.charCodeAt(pos + 1) !== LF) fail('HPE_BARE_CR', 400, isRequest, 'CR without LF');
  return pos + 2;
}

/** Parses "HTTP/d.d" at pos; returns the minor version or throws (505 for other HTTP versions). */
function parseVersion(text: string, pos: number, isRequest: boolean): number {
  const major = text.charCodeAt(pos + 5) - 48;
  const minor = text.charCodeAt(pos + 7) - 48;
  if (
    !text.startsWith('HTTP/', pos) ||
    !(major >= 0 && major <= 9) ||
    text.charCodeAt(pos + 6) !== 0x2e ||
    !(minor >= 0 && minor <= 9)
  ) {
    fail('HPE_INVALID_VERSION', 400, isRequest, 'malformed HTTP version');
  }
  if (major !== 1 || minor > 1) fail('HPE_INVALID_VERSION', 505, isRequest, 'HTTP version not supported');
  return minor;
}

/**
 * uri-host [ ":" port ] (RFC 9110 §4.2, §7.2; RFC 3986 §3.2.2) in text[s, e): reg-name characters,
 * or an IP-literal in brackets, then an optional port of 1 to 5 digits. Userinfo is refused.
 */
export function isValidAuthority(text: string, s: number, e: number, requirePort: boolean): boolean {
  let i = s;
  if (text.charCodeAt(i) === OPEN_BRACKET) {
    i++;
    const inner = i;
    while (i < e) {
      const c = text.charCodeAt(i);
      if (c === CLOSE_BRACKET) break;
      if (c !== COLON && (CHAR[c]! & C_HOST) === 0) return false;
      i++;
    }
    if (i === e || i === inner) return false;
    i++;
  } else {
    while (i < e && (CHAR[text.charCodeAt(i)]! & C_HOST) !== 0) i++;
    if (i === s) return false;
  }
  if (i === e) return !requirePort;
  if (text.charCodeAt(i) !== COLON) return false;
  i++;
  const digits = e - i;
  if (digits < 1 || digits > 5) return false;
  for (; i < e; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return false;
  }
  return true;
}

/**
 * Parse the complete request head buf[start, headEnd) into out (out.reset() first). headBytes is
 * headEnd - start, including any skipped leading empty lines. Throws HttpParseError.
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  headEnd: number,
  limits: HeadLimits,
  out: ParsedHead,
): void {
  const lineStart = beginHead(buf, start, headEnd, limits, out, true);
  const text = out.text;
  // method = token (RFC 9112 §3.1), then exactly one SP
  let pos = lineStart;
  while ((CHAR[text.charCodeAt(pos)]! & C_TOKEN) !== 0) pos++;
  if (pos === lineStart || text.charCodeAt(pos) !== SP) fail('HPE_INVALID_METHOD', 400, true, 'invalid method');
  const method = text.substring(lineStart, pos);
  out.method = method;

  // request-target: visible ASCII only; its form is decided below
  const targetStart = ++pos;
  const lineLimit = lineStart + limits.maxRequestLineBytes;
  while ((CHAR[text.charCodeAt(pos)]! & C_TARGET) !== 0) {
    if (++pos > lineLimit) fail('HPE_URI_TOO_LONG', 414, true, 'request line too long');
  }
  const targetEnd = pos;
  if (targetEnd === targetStart || text.charCodeAt(pos) !== SP) {
    const c = text.charCodeAt(pos);
    const code = targetEnd !== targetStart && (c === CR || c === LF) ? 'HPE_INVALID_VERSION' : 'HPE_INVALID_TARGET';
    fail(code, 400, true, 'invalid request-target');
  }
  pos++;
  out.versionMinor = parseVersion(text, pos, true);
  pos += 8;
  if (pos > lineLimit) fail('HPE_URI_TOO_LONG', 414, true, 'request line too long');
  pos = expectLineEnd(text, pos, 'HPE_INVALID_VERSION', true);
  out.startLineEnd = pos;

  classifyTarget(text, targetStart, targetEnd, method, out);
  const hostLines = parseFields(buf, start, text, pos, limits, true, out);

  if (out.versionMinor === 1 && hostLines === 0) fail('HPE_MISSING_HOST', 400, true, 'HTTP/1.1 request without Host');
  if (out.hasTransferEncoding && !out.chunked) {
    // RFC 9112 §6.1: a transfer coding the server cannot delimit the body with
    fail('HPE_TE_NOT_CHUNKED', 501, true, 'Transfer-Encoding does not end with chunked');
  }
}

/**
 * What both parsers start with: the size limit, the head's latin1 text (taken once), and the
 * leading empty lines skipped. Returns where the start line begins.
 */
function beginHead(
  buf: Buffer,
  start: number,
  headEnd: number,
  limits: HeadLimits,
  out: ParsedHead,
  isRequest: boolean,
): number {
  out.reset();
  const len = headEnd - start;
  if (len > limits.maxHeadBytes) fail('HPE_HEAD_TOO_LARGE', 431, isRequest, 'head too large');
  out.text = latin1(buf, start, headEnd);
  out.headBytes = len;
  const lineStart = skipEmptyLines(out.text, isRequest);
  out.startLineStart = lineStart;
  return lineStart;
}

/** Parse a complete response head buf[start, headEnd) into out. Errors carry status 502. */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  headEnd: number,
  limits: HeadLimits,
  out: ParsedHead,
): void {
  const lineStart = beginHead(buf, start, headEnd, limits, out, false);
  const text = out.text;
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4); a missing
  // second SP before an empty reason is tolerated, as most clients do.
  let pos = lineStart;
  out.versionMinor = parseVersion(text, pos, false);
  pos += 8;
  const d0 = text.charCodeAt(pos + 1) - 48;
  const d1 = text.charCodeAt(pos + 2) - 48;
  const d2 = text.charCodeAt(pos + 3) - 48;
  if (text.charCodeAt(pos) !== SP || !(d0 >= 1 && d0 <= 9) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9)) {
    fail('HPE_INVALID_STATUS', 502, false, 'invalid status code');
  }
  out.statusCode = d0 * 100 + d1 * 10 + d2;
  pos += 4;
  let c = text.charCodeAt(pos);
  if (c === SP) {
    const reasonStart = ++pos;
    while ((CHAR[text.charCodeAt(pos)]! & C_VALUE) !== 0) pos++;
    out.reason = text.substring(reasonStart, pos);
    c = text.charCodeAt(pos);
  }
  if (c !== CR && c !== LF) fail('HPE_INVALID_STATUS', 502, false, 'invalid character in status line');
  pos = expectLineEnd(text, pos, 'HPE_INVALID_STATUS', false);
  out.startLineEnd = pos;
  parseFields(buf, start, text, pos, limits, false, out);
}

function classifyTarget(text: string, s: number, e: number, method: string, out: ParsedHead): void {
  const c0 = text.charCodeAt(s);
  if (method === 'CONNECT') {
    // authority-form, only with CONNECT (RFC 9112 §3.2.3)
    if (!isValidAuthority(text, s, e, true)) fail('HPE_INVALID_TARGET', 400, true, 'CONNECT needs host:port');
    out.targetForm = TargetForm.Authority;
    out.target = text.substring(s, e);
    return;
  }
  if (c0 === SLASH) {
    out.target = text.substring(s, e);
    return;
  }
  if (c0 === STAR && e - s === 1) {
    // asterisk-form, only with OPTIONS (RFC 9112 §3.2.4)
    if (method !== 'OPTIONS') fail('HPE_INVALID_TARGET', 400, true, 'asterisk-form is only for OPTIONS');
    out.targetForm = TargetForm.Asterisk;
    out.target = '*';
    return;
  }
  // absolute-form (RFC 9112 §3.2.2): http or https only, rewritten to origin-form
  let a: number;
  if (regionEqualsLowercase(text, s, 'http://')) {
    a = s + 7;
    out.absoluteScheme = 'http';
  } else if (regionEqualsLowercase(text, s, 'https://')) {
    a = s + 8;
    out.absoluteScheme = 'https';
  } else {
    fail('HPE_INVALID_TARGET', 400, true, 'invalid request-target');
  }
  let p = a;
  while (p < e) {
    const c = text.charCodeAt(p);
    if (c === SLASH || c === QUESTION) break;
    p++;
  }
  if (!isValidAuthority(text, a, p, false)) fail('HPE_INVALID_TARGET', 400, true, 'invalid authority in target');
  out.targetForm = TargetForm.Absolute;
  out.absoluteAuthority = text.substring(a, p);
  if (p === e) out.target = '/';
  else if (text.charCodeAt(p) === SLASH) out.target = text.substring(p, e);
  else out.target = `/${text.substring(p, e)}`;
}

/**
 * Field lines from pos to the final empty line (RFC 9112 §5), with the derived facts. Returns the
 * number of Host lines.
 */
function parseFields(
  buf: Buffer,
  base: number,
  text: string,
  pos: number,
  limits: HeadLimits,
  isRequest: boolean,
  out: ParsedHead,
): number {
  const len = text.length;
  const maxHeaders = limits.maxHeaders;
  const names = out.names;
  const values = out.values;
  const kinds = out.kinds;
  const lineStarts = out.lineStart;
  const lineEnds = out.lineEnd;
  let count = 0;
  let te = 0;
  let hostLines = 0;
  // Bytes are read from the buffer (cheaper than charCodeAt); offsets are those of text.
  let at = base + pos;
  for (;;) {
    const lineStart = pos;
    let c = buf[at]!;
    if (c === CR) {
      if (text.charCodeAt(pos + 1) !== LF) fail('HPE_BARE_CR', 400, isRequest, 'CR without LF');
      if (pos + 2 !== len) fail('HPE_INVALID_HEAD_END', 400, isRequest, 'bytes after the end of the head');
      break;
    }
    if (c === LF) fail('HPE_BARE_LF', 400, isRequest, 'LF without CR');
    if (c === SP || c === HTAB) fail('HPE_OBS_FOLD', 400, isRequest, 'field line starts with whitespace');
    if (count === maxHeaders) fail('HPE_TOO_MANY_HEADERS', 431, isRequest, 'too many header fields');
    while ((CHAR[c]! & C_TOKEN) !== 0) c = buf[++at]!;
    pos = at - base;
    const nameEnd = pos;
    if (c !== COLON || nameEnd === lineStart) {
      if (nameEnd !== lineStart && (c === SP || c === HTAB)) {
        fail('HPE_WS_BEFORE_COLON', 400, isRequest, 'whitespace before colon');
      }
      fail('HPE_INVALID_HEADER_TOKEN', 400, isRequest, 'invalid field name');
    }
    c = buf[++at]!;
    while (c === SP || c === HTAB) c = buf[++at]!;
    const valueStart = at - base;
    while ((CHAR[c]! & C_VALUE) !== 0) c = buf[++at]!;
    pos = at - base;
    let valueEnd = pos;
    // trailing OWS is not part of the value (RFC 9110 §5.5)
    while (valueEnd > valueStart) {
      const t = buf[base + valueEnd - 1];
      if (t !== SP && t !== HTAB) break;
      valueEnd--;
    }
    if (c !== CR) {
      if (c === LF) fail('HPE_BARE_LF', 400, isRequest, 'LF without CR');
      fail('HPE_INVALID_HEADER_VALUE', 400, isRequest, 'invalid character in field value');
    }
    if (buf[at + 1] !== LF) fail('HPE_BARE_CR', 400, isRequest, 'CR without LF');
    pos += 2;
    at += 2;

    const kind = matchField(text, lineStart, nameEnd - lineStart);
    names[count] = text.substring(lineStart, nameEnd);
    const value = text.substring(valueStart, valueEnd);
    values[count] = value;
    kinds[count] = kind;
    lineStarts[count] = lineStart;
    lineEnds[count] = pos;
    count++;

    switch (kind) {
      case Field.Other:
        break;
      case Field.Host:
        if (isRequest) {
          if (++hostLines > 1) fail('HPE_MULTIPLE_HOST', 400, true, 'more than one Host');
          // RFC 9112 §3.2: an invalid Host value is answered with 400; an empty one is allowed.
          if (valueEnd !== valueStart && !isValidAuthority(text, valueStart, valueEnd, false)) {
            fail('HPE_INVALID_HOST', 400, true, 'invalid Host');
          }
          out.host = value;
        }
        break;
      case Field.ContentLength:
        applyContentLength(text, valueStart, valueEnd, isRequest, out);
        break;
      case Field.TransferEncoding:
        out.hasTransferEncoding = true;
        te = applyTransferEncoding(text, valueStart, valueEnd, te, isRequest);
        break;
      case Field.Connection:
        applyConnection(text, valueStart, valueEnd, out);
        break;
      case Field.KeepAlive:
        applyKeepAlive(text, valueStart, valueEnd, out);
        break;
      case Field.Upgrade:
        out.upgrade = out.upgrade === '' ? value : `${out.upgrade}, ${value}`;
        break;
      case Field.Expect:
        if (regionEqualsLowercase(text, valueStart, '100-continue') && valueEnd - valueStart === 12) {
          out.expectContinue = true;
        }
        break;
    }
  }
  out.count = count;
  if (out.hasTransferEncoding) {
    out.chunked = (te & TE_CHUNKED_LAST) !== 0;
    // RFC 9112 §6.1: Content-Length with Transfer-Encoding is how requests are smuggled
    if (out.contentLength !== -1) fail('HPE_CL_TE', 400, isRequest, 'Content-Length with Transfer-Encoding');
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing
    if (out.versionMinor === 0) fail('HPE_TE_HTTP10', 400, isRequest, 'Transfer-Encoding in HTTP/1.0');
  }
  return hostLines;
}

/** Content-Length = 1*DIGIT (RFC 9110 §8.6); every repetition is refused, as llhttp does. */
function applyContentLength(text: string, s: number, e: number, isRequest: boolean, out: ParsedHead): void {
  if (s === e) fail('HPE_INVALID_CL', 400, isRequest, 'empty Content-Length');
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) fail('HPE_INVALID_CL', 400, isRequest, 'invalid Content-Length');
    n = n * 10 + d;
    if (n > Number.MAX_SAFE_INTEGER) fail('HPE_INVALID_CL', 400, isRequest, 'Content-Length too large');
  }
  if (out.contentLength !== -1) {
    if (out.contentLength !== n) fail('HPE_CL_MISMATCH', 400, isRequest, 'conflicting Content-Length');
    fail('HPE_DUPLICATE_CL', 400, isRequest, 'duplicate Content-Length');
  }
  out.contentLength = n;
}

/**
 * One Transfer-Encoding field line: a list of transfer-coding = token *( OWS ";" OWS
 * token BWS "=" BWS ( token / quoted-string ) ) (RFC 9112 §7). Empty elements are refused here,
 * as is chunked anywhere but last in a request or twice in any message (RFC 9112 §6.1, §7.1).
 * Returns the updated TE_* state.
 */
function applyTransferEncoding(text: string, s: number, e: number, state: number, isRequest: boolean): number {
  let i = s;
  for (;;) {
    const codingStart = i;
    while (i < e && (CHAR[text.charCodeAt(i)]! & C_TOKEN) !== 0) i++;
    if (i === codingStart) fail('HPE_INVALID_TE', 400, isRequest, 'empty or invalid transfer-coding');
    const isChunked = i - codingStart === 7 && regionEqualsLowercase(text, codingStart, 'chunked');
    i = skipOws(text, i, e);
    let hasParams = false;
    while (i < e && text.charCodeAt(i) === SEMICOLON) {
      hasParams = true;
      i = skipParameter(text, skipOws(text, i + 1, e), e, isRequest);
      i = skipOws(text, i, e);
    }
    if (isChunked) {
      if (hasParams) fail('HPE_INVALID_TE', 400, isRequest, 'chunked takes no parameters');
      if ((state & TE_CHUNKED_SEEN) !== 0) fail('HPE_INVALID_TE', 400, isRequest, 'chunked applied twice');
      state = TE_CHUNKED_SEEN | TE_CHUNKED_LAST;
    } else {
      if ((state & TE_CHUNKED_SEEN) !== 0 && isRequest) {
        fail('HPE_INVALID_TE', 400, true, 'chunked is not the final transfer coding');
      }
      state &= ~TE_CHUNKED_LAST;
    }
    if (i === e) return state;
    if (text.charCodeAt(i) !== COMMA) fail('HPE_INVALID_TE', 400, isRequest, 'invalid Transfer-Encoding');
    i = skipOws(text, i + 1, e);
  }
}

function skipOws(text: string, i: number, e: number): number {
  while (i < e) {
    const c = text.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/** token BWS "=" BWS ( token / quoted-string ); returns the offset after it. */
function skipParameter(text: string, i: number, e: number, isRequest: boolean): number {
  const nameStart = i;
  while (i < e && (CHAR[text.charCodeAt(i)]! & C_TOKEN) !== 0) i++;
  if (i === nameStart) fail('HPE_INVALID_TE', 400, isRequest, 'invalid transfer-coding parameter');
  i = skipOws(text, i, e);
  if (text.charCodeAt(i) !== EQUALS || i >= e) fail('HPE_INVALID_TE', 400, isRequest, 'parameter without value');
  i = skipOws(text, i + 1, e);
  if (text.charCodeAt(i) === DQUOTE && i < e) {
    i++;
    for (;;) {
      if (i >= e) fail('HPE_INVALID_TE', 400, isRequest, 'unterminated quoted-string');
      const c = text.charCodeAt(i);
      if (c === DQUOTE) return i + 1;
      i += c === BACKSLASH ? 2 : 1;
    }
  }
  const valueStart = i;
  while (i < e && (CHAR[text.charCodeAt(i)]! & C_TOKEN) !== 0) i++;
  if (i === valueStart) fail('HPE_INVALID_TE', 400, isRequest, 'invalid parameter value');
  return i;
}

/** Connection = #connection-option (RFC 9110 §7.6.1); tokens compared case-insensitively. */
function applyConnection(text: string, s: number, e: number, out: ParsedHead): void {
  let i = s;
  while (i < e) {
    let c = text.charCodeAt(i);
    while (c === SP || c === HTAB || c === COMMA) c = text.charCodeAt(++i);
    if (i >= e) return;
    const tokenStart = i;
    while (i < e && c !== COMMA) c = text.charCodeAt(++i);
    let tokenEnd = i;
    while (tokenEnd > tokenStart) {
      const t = text.charCodeAt(tokenEnd - 1);
      if (t !== SP && t !== HTAB) break;
      tokenEnd--;
    }
    const n = tokenEnd - tokenStart;
    if (n === 5 && regionEqualsLowercase(text, tokenStart, 'close')) out.connectionClose = true;
    else if (n === 10 && regionEqualsLowercase(text, tokenStart, 'keep-alive')) out.connectionKeepAlive = true;
    else if (n === 7 && regionEqualsLowercase(text, tokenStart, 'upgrade')) out.connectionUpgrade = true;
    else out.connectionTokens.push(text.substring(tokenStart, tokenEnd).toLowerCase());
  }
}

/** Keep-Alive: timeout=N (RFC 2068 §19.7.1.1), as servers still send it; other parameters ignored. */
function applyKeepAlive(text: string, s: number, e: number, out: ParsedHead): void {
  let i = s;
  while (i < e) {
    let c = text.charCodeAt(i);
    while (c === SP || c === HTAB || c === COMMA) c = text.charCodeAt(++i);
    if (i >= e) return;
    if (e - i > 8 && regionEqualsLowercase(text, i, 'timeout=')) {
      i += 8;
      let n = 0;
      let digits = 0;
      for (; i < e && digits < 10; i++, digits++) {
        const d = text.charCodeAt(i) - 48;
        if (!(d >= 0 && d <= 9)) break;
        n = n * 10 + d;
      }
      if (digits > 0) out.keepAliveTimeoutS = n;
    }
    while (i < e && text.charCodeAt(i) !== COMMA) i++;
  }
}
