/**
 * A buffered writer of whole log lines for the access log: lines are encoded straight into a
 * reusable Buffer and written with one asynchronous syscall per chunk (64 KiB to files, 4 KiB to
 * pipes and terminals so every write stays atomic beside the other log lines on the same stream),
 * and at least every 200 ms.
 *
 * pino's destination (sonic-boom) measures the byte length of its whole pending string on every
 * line, which made the access log cost as much as proxying the request (bench --cpu-prof); this
 * writer touches each line once.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const FILE_CHUNK = 64 * 1024;
/** PIPE_BUF on Linux: writes up to this size to a pipe are never interleaved with others. */
const PIPE_CHUNK = 4096;
const FLUSH_EVERY_MS = 200;

export class LineWriter {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private readonly chunkBytes: number;
  private buf: Buffer;
  private len = 0;
  /** Full chunks waiting for the write in flight to finish. */
  private readonly queue: Buffer[] = [];
  private writing = false;
  /** Buffers given back after their write, reused for the next chunks. */
  private readonly spare: Buffer[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  /** `file` '' = standard output. */
  constructor(file: string) {
    if (file === '') {
      this.fd = 1;
      this.ownsFd = false;
    } else {
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(file, 'a');
      this.ownsFd = true;
    }
    this.chunkBytes = fstatSync(this.fd).isFile() ? FILE_CHUNK : PIPE_CHUNK;
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.timer = setInterval(this.flush, FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Appends one line (with its newline). */
  write(line: string): void {
    if (this.closed) return;
    // UTF-8 can take up to 3 bytes per UTF-16 unit; a line that might not fit closes the chunk first.
    if (this.len + line.length * 3 > this.chunkBytes) {
      this.enqueue();
      if (line.length * 3 > this.chunkBytes) {
        this.queue.push(Buffer.from(line, 'utf8'));
        this.pump();
        return;
      }
    }
    this.len += this.buf.write(line, this.len, 'utf8');
  }

  /** Sends what is buffered (called every 200 ms and on demand). */
  readonly flush = (): void => {
    if (this.len > 0) this.enqueue();
  };

  /** Writes everything synchronously (shutdown) and closes an owned file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.enqueue();
    for (const chunk of this.queue.splice(0)) writeAll(this.fd, chunk);
    if (this.ownsFd) {
      try {
        fsyncSync(this.fd);
      } catch {
        // Not every fd supports fsync; the data was written.
      }
      closeSync(this.fd);
    }
  }

  private enqueue(): void {
    if (this.len === 0) return;
    this.queue.push(this.buf.subarray(0, this.len));
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.len = 0;
    this.pump();
  }

  private pump(): void {
    if (this.writing || this.closed) return;
    const chunk = this.queue.shift();
    if (chunk === undefined) return;
    this.writing = true;
    write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.writing = false;
      if (!error && written < chunk.length) this.queue.unshift(chunk.subarray(written));
      else if (chunk.buffer.byteLength === this.chunkBytes && this.spare.length < 4)
        this.spare.push(Buffer.from(chunk.buffer, 0, this.chunkBytes));
      // A failed write (disk full, closed pipe) drops that chunk: the proxy must not stop for its log.
      this.pump();
    });
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off);
}
