/**
 * Logs: pino JSON, one access record per request and one error record per upstream failure.
 * Records go through sonic-boom with buffered, asynchronous writes (no syscall per line); `pretty`
 * formats for people through pino-pretty.
 */
import pino, { type Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level: string;
  format: LogFormat;
  /** '' = standard output. */
  file: string;
}

export interface Logs {
  readonly logger: Logger;
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
    return { logger, flush: () => logger.flush() };
  }
  const destination = pino.destination({
    dest: options.file === '' ? 1 : options.file,
    sync: false,
    minLength: 8192,
    mkdir: true,
  });
  const logger = pino({ level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  // Buffered writes, flushed at least every 200 ms so a quiet gateway's lines are not held back.
  const timer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // The file is not open yet: the next tick flushes.
    }
  }, 200);
  timer.unref();
  return {
    logger,
    flush: () => {
      clearInterval(timer);
      try {
        destination.flushSync();
      } catch {
        // Not yet open (nothing written): nothing to flush.
      }
    },
  };
}
