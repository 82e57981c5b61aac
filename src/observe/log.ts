/**
 * Logs: pino JSON, one access record per request and one error record per upstream failure.
 * Records go through sonic-boom with buffered, asynchronous writes (no syscall per line); `pretty`
 * formats for people through pino-pretty.
 */
import pino, { type Logger } from 'pino';
import { LineWriter } from './line-writer.js';

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level: string;
  format: LogFormat;
  /** '' = standard output. */
  file: string;
  /**
   * One write per record (a worker process: records of several processes share the output, and
   * writes below PIPE_BUF never interleave). Default: buffered.
   */
  sync?: boolean | undefined;
}

export interface Logs {
  readonly logger: Logger;
  /**
   * Writes one pre-serialised NDJSON line (with its newline) to the same file or stream as `logger`,
   * for the access log: pino's record format, without a serialisation pass per request, through a
   * LineWriter. Undefined with the pretty format or when info records are off.
   */
  readonly writeLine: ((line: string) => void) | undefined;
  flush(): void;
}

export function createLogs(options: LogOptions): Logs {
  if (options.format === 'pretty') {
    const logger = pino({
      level: options.level,
      base: undefined,
      transport: {
        target: 'pino-pretty',
        options: {
          destination: options.file === '' ? 1 : options.file,
          colorize: options.file === '' && process.stdout.isTTY,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        },
      },
    });
    return { logger, writeLine: undefined, flush: () => logger.flush() };
  }
  // Buffered asynchronous writes (one syscall per 8 KiB, not per line), flushed at least every
  // 200 ms so a quiet gateway's lines are not held back.
  const destination = pino.destination({
    dest: options.file === '' ? 1 : options.file,
    sync: options.sync === true,
    minLength: options.sync === true ? 0 : 8192,
    periodicFlush: 200,
    mkdir: true,
  });
  const logger = pino({ level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const access = logger.isLevelEnabled('info') ? new LineWriter(options.file) : undefined;
  return {
    logger,
    writeLine: access === undefined ? undefined : (line: string) => access.write(line),
    flush: () => {
      access?.close();
      try {
        destination.flushSync();
      } catch {
        // Not yet open (nothing written): nothing to flush.
      }
    },
  };
}
