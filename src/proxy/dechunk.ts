/**
 * Strips chunked framing from a response body for clients that do not speak HTTP/1.1 framing
 * (HTTP/2). The bytes were validated by the exchange's ChunkedScanner already, so this only tracks
 * where chunk data lies; trailers are dropped.
 */
enum S {
  Size = 0,
  Extension = 1,
  SizeLf = 2,
  Data = 3,
  DataCr = 4,
  DataLf = 5,
  Trailer = 6,
  Done = 7,
}

export class Dechunker {
  private state = S.Size;
  private size = 0;
  private remaining = 0;
  /** Length of the current trailer line (0 at a line start: an empty line ends the message). */
  private lineLength = 0;

  /** Calls `emit(buf, start, end)` for every run of chunk data in buf[start, end). */
  feed(buf: Buffer, start: number, end: number, emit: (buf: Buffer, start: number, end: number) => void): void {
    let i = start;
    while (i < end) {
      switch (this.state) {
        case S.Size: {
          const c = buf[i++]!;
          if (c === 0x0d) this.state = S.SizeLf;
          else if (c === 0x3b) this.state = S.Extension;
          else if (c !== 0x20 && c !== 0x09) this.size = this.size * 16 + hexValue(c);
          break;
        }
        case S.Extension:
          if (buf[i++] === 0x0d) this.state = S.SizeLf;
          break;
        case S.SizeLf:
          i++;
          if (this.size === 0) {
            this.state = S.Trailer;
            this.lineLength = 0;
          } else {
            this.remaining = this.size;
            this.state = S.Data;
          }
          this.size = 0;
          break;
        case S.Data: {
          const n = Math.min(this.remaining, end - i);
          emit(buf, i, i + n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          i++;
          this.state = S.DataLf;
          break;
        case S.DataLf:
          i++;
          this.state = S.Size;
          break;
        case S.Trailer: {
          const c = buf[i++]!;
          if (c === 0x0a) {
            if (this.lineLength === 0) this.state = S.Done;
            this.lineLength = 0;
          } else if (c !== 0x0d) this.lineLength++;
          break;
        }
        default:
          return;
      }
    }
  }
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}
