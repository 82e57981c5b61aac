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
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Not yet open (nothing written): nothing to flush.
      }
    },
  };
}
