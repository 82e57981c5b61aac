import { type HttpParseCode, HttpParseError } from './errors.js';
import { C_HEX, C_TOKEN, C_VALUE, CHAR, COLON, CR, HTAB, LF, SP } from './head.js';

const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
/** 16 hex digits are enough for any length a JavaScript number holds exactly. */
const MAX_SIZE_DIGITS = 16;

enum State {
  SizeStart,
  Size,
  ExtNameStart,
  ExtName,
  ExtValueStart,
  ExtValueToken,
  ExtQuoted,
  ExtQuotedPair,
  ExtAfterValue,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  FinalLf,
  Done,
}

/**
 * Follows chunked framing (RFC 9112 §7.1) across reads without copying or decoding, so a body can
 * be relayed as the bytes it arrived in while its end is known exactly. One per direction per
 * connection; reset() before each message.
 *
 * chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF, where chunk-size is 1 to 16 HEXDIG and
 * chunk-ext = *( ";" chunk-ext-name [ "=" ( token / quoted-string ) ] ); the body ends with
 * last-chunk, trailer field lines (validated like header fields) and CRLF.
 *
 * The BWS that RFC 9112 §7.1.1 tolerates around ";" and "=" is refused: senders MUST NOT
 * generate it (RFC 9110 §5.6.3), llhttp (Node's parser, so many next hops) refuses it, and a
 * body relayed unchanged must not be one the next hop reads differently or not at all.
 */
export class ChunkedScanner {
  private readonly maxTrailerBytes: number;
  private readonly maxChunkExtBytes: number;
  private readonly errorStatus: number;
  private state: State = State.SizeStart;
  private size = 0;
  private sizeDigits = 0;
  private remaining = 0;
  private extBytes = 0;
  private trailerBytes = 0;
  private data = 0;

  /** errorStatus is the status errors carry: 400 for request bodies, 502 for response bodies. */
  constructor(maxTrailerBytes = 16384, maxChunkExtBytes = 4096, errorStatus = 400) {
    this.maxTrailerBytes = maxTrailerBytes;
    this.maxChunkExtBytes = maxChunkExtBytes;
    this.errorStatus = errorStatus;
  }

  /** chunk-data bytes seen since reset (for logs). */
  get dataBytes(): number {
    return this.data;
  }

  /** True once the whole chunked body has been seen. */
  get done(): boolean {
    return this.state === State.Done;
  }

  reset(): void {
    this.state = State.SizeStart;
    this.size = 0;
    this.sizeDigits = 0;
    this.remaining = 0;
    this.extBytes = 0;
    this.trailerBytes = 0;
    this.data = 0;
  }

  /**
   * Scan buf[start, end). Returns the offset just past the whole chunked body (last-chunk, trailer
   * section and final CRLF) when it ends inside this range, otherwise -1 (all bytes consumed, more
   * needed). Once done, returns `start` until reset(). Throws HttpParseError on bad framing.
   */
  scan(buf: Buffer, start: number, end: number): number {
    let state = this.state;
    let i = start;
    if (state === State.Done) return start;
    while (i < end) {
      if (state === State.Data) {
        const avail = end - i;
        const take = Math.min(this.remaining, avail);
        i += take;
        this.remaining -= take;
        this.data += take;
        if (this.remaining === 0) state = State.DataCr;
        continue;
      }
      const c = buf[i]!;
      i++;
      switch (state) {
        case State.SizeStart:
          if ((CHAR[c]! & C_HEX) === 0) this.fail(state, 'HPE_INVALID_CHUNK_SIZE', 'chunk-size is not HEXDIG');
          this.size = hexValue(c);
          this.sizeDigits = 1;
          this.extBytes = 0;
          state = State.Size;
          break;
        case State.Size:
          if ((CHAR[c]! & C_HEX) !== 0) {
            if (++this.sizeDigits > MAX_SIZE_DIGITS) this.fail(state, 'HPE_CHUNK_OVERFLOW', 'chunk-size too long');
            this.size = this.size * 16 + hexValue(c);
            if (this.size > Number.MAX_SAFE_INTEGER) this.fail(state, 'HPE_CHUNK_OVERFLOW', 'chunk-size too large');
          } else if (c === CR) state = State.SizeLf;
          else if (c === SEMICOLON) state = State.ExtNameStart;
          else this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'invalid character in chunk-size');
          break;
        case State.ExtNameStart:
          this.countExt(state);
          if ((CHAR[c]! & C_TOKEN) !== 0) state = State.ExtName;
          else this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'empty chunk-ext name');
          break;
        case State.ExtName:
          this.countExt(state);
          if ((CHAR[c]! & C_TOKEN) !== 0) break;
          if (c === CR) state = State.SizeLf;
          else if (c === SEMICOLON) state = State.ExtNameStart;
          else if (c === EQUALS) state = State.ExtValueStart;
          else this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'invalid chunk-ext name');
          break;
        case State.ExtValueStart:
          this.countExt(state);
          if ((CHAR[c]! & C_TOKEN) !== 0) state = State.ExtValueToken;
          else if (c === DQUOTE) state = State.ExtQuoted;
          else this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'empty chunk-ext value');
          break;
        case State.ExtValueToken:
          this.countExt(state);
          if ((CHAR[c]! & C_TOKEN) !== 0) break;
          if (c === CR) state = State.SizeLf;
          else if (c === SEMICOLON) state = State.ExtNameStart;
          else this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'invalid chunk-ext value');
          break;
        case State.ExtQuoted:
          this.countExt(state);
          if (c === DQUOTE) state = State.ExtAfterValue;
          else if (c === BACKSLASH) state = State.ExtQuotedPair;
          else if ((CHAR[c]! & C_VALUE) === 0) {
            this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'invalid character in quoted-string');
          }
          break;
        case State.ExtQuotedPair:
          this.countExt(state);
          if ((CHAR[c]! & C_VALUE) === 0) this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'invalid quoted-pair');
          state = State.ExtQuoted;
          break;
        case State.ExtAfterValue:
          this.countExt(state);
          if (c === CR) state = State.SizeLf;
          else if (c === SEMICOLON) state = State.ExtNameStart;
          else this.badLineByte(state, c, 'HPE_INVALID_CHUNK_SIZE', 'invalid chunk-ext');
          break;
        case State.SizeLf:
          if (c !== LF) this.fail(state, 'HPE_BARE_CR', 'CR without LF in chunk line');
          if (this.size === 0) {
            state = State.TrailerLineStart;
          } else {
            this.remaining = this.size;
            state = State.Data;
          }
          break;
        case State.DataCr:
          if (c !== CR) this.fail(state, 'HPE_INVALID_CHUNK_FRAMING', 'chunk-data not followed by CRLF');
          state = State.DataLf;
          break;
        case State.DataLf:
          if (c !== LF) this.fail(state, 'HPE_INVALID_CHUNK_FRAMING', 'chunk-data not followed by CRLF');
          state = State.SizeStart;
          break;
        case State.TrailerLineStart:
          if (c === CR) {
            state = State.FinalLf;
            break;
          }
          this.countTrailer(state);
          if ((CHAR[c]! & C_TOKEN) !== 0) state = State.TrailerName;
          else if (c === SP || c === HTAB) this.fail(state, 'HPE_INVALID_TRAILER', 'obs-fold in trailer');
          else this.badLineByte(state, c, 'HPE_INVALID_TRAILER', 'invalid trailer field name');
          break;
        case State.TrailerName:
          this.countTrailer(state);
          if (c === COLON) state = State.TrailerValue;
          else if ((CHAR[c]! & C_TOKEN) === 0)
            this.badLineByte(state, c, 'HPE_INVALID_TRAILER', 'invalid trailer name');
          break;
        case State.TrailerValue:
          this.countTrailer(state);
          if (c === CR) state = State.TrailerLf;
          else if ((CHAR[c]! & C_VALUE) === 0) {
            this.badLineByte(state, c, 'HPE_INVALID_TRAILER', 'invalid character in trailer value');
          }
          break;
        case State.TrailerLf:
          this.countTrailer(state);
          if (c !== LF) this.fail(state, 'HPE_BARE_CR', 'CR without LF in trailer');
          state = State.TrailerLineStart;
          break;
        case State.FinalLf:
          if (c !== LF) this.fail(state, 'HPE_BARE_CR', 'CR without LF after trailer section');
          this.state = State.Done;
          return i;
      }
    }
    this.state = state;
    return -1;
  }

  private countExt(state: State): void {
    if (++this.extBytes > this.maxChunkExtBytes) this.fail(state, 'HPE_CHUNK_EXT_TOO_LARGE', 'chunk-ext too long');
  }

  private countTrailer(state: State): void {
    if (++this.trailerBytes > this.maxTrailerBytes) {
      this.fail(state, 'HPE_TRAILER_TOO_LARGE', 'trailer section too large');
    }
  }

  /** A byte that ends a chunk line wrongly is named for what it is (bare LF), others by context. */
  private badLineByte(state: State, c: number, code: HttpParseCode, message: string): never {
    if (c === LF) this.fail(state, 'HPE_BARE_LF', 'LF without CR in chunked framing');
    this.fail(state, code, message);
  }

  private fail(state: State, code: HttpParseCode, message: string): never {
    this.state = state;
    throw new HttpParseError(code, this.errorStatus, message);
  }
}

function hexValue(c: number): number {
  // '0'-'9' -> 0-9; 'A'-'F' and 'a'-'f' -> 10-15 (bit 0x20 folds case)
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}
