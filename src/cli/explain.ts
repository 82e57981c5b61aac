import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { defineCommand } from 'citty';
import { analyzeLog, type Explanation, explainLine, renderLogAnalysis } from '../diagnose/index.js';

export interface ExplainRenderOptions {
  /** ANSI colours (only for a terminal). */
  color: boolean;
}

const STYLE = {
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  reset: '\u001b[0m',
} as const;

/** One explanation for people: what failed, the ranked causes with their reasons, what to check. */
export function renderExplanation(e: Explanation, options: ExplainRenderOptions): string {
  const paint = (style: keyof typeof STYLE, text: string): string =>
    options.color ? `${STYLE[style]}${text}${STYLE.reset}` : text;
  const head = [
    paint('bold', e.error ?? 'not a failure'),
    paint('dim', `[${e.source}, ${e.confidence} confidence]`),
    e.time !== undefined ? paint('dim', e.time) : '',
    e.upstream !== undefined ? `upstream ${e.upstream}` : '',
    e.phase !== undefined ? `phase ${e.phase}` : '',
  ].filter((part) => part !== '');
  const out = [head.join('  '), `  ${e.error === null ? e.summary : paint('red', e.summary)}`];
  if (e.error !== null || e.causes[0]!.cause !== 'other') {
    out.push('  likely causes:');
    e.causes.forEach((c, i) => {
      out.push(`    ${i + 1}. ${paint(i === 0 ? 'yellow' : 'dim', c.cause)}: ${c.why}`);
    });
  }
  if (e.error !== null && e.checks.length > 0) {
    out.push('  check:');
    for (const check of e.checks) {
      out.push(`    - ${check.what}`);
      if (check.command !== undefined) out.push(`        ${paint('cyan', `$ ${check.command}`)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function lines(stream: Readable): AsyncIterable<string> {
  return createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
}

export interface ExplainRequest {
  /** Lines given as arguments; when empty, lines come from `input`. */
  lines: readonly string[];
  json: boolean;
  color: boolean;
  /** Analyse this log file ('-' = input) instead of explaining line by line. */
  errorLog?: string;
  width?: number;
}

export interface ExplainIo {
  input: Readable;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Explains the lines (or analyses the error log) and prints the result; the exit code is 0. */
export async function runExplain(request: ExplainRequest, io: ExplainIo): Promise<number> {
  if (request.errorLog !== undefined) {
    const stream = request.errorLog === '-' ? io.input : createReadStream(request.errorLog);
    const opened = new Promise<void>((resolve, reject) => {
      if (stream === io.input) return resolve();
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    try {
      await opened;
    } catch (error) {
      io.stderr(
        `gatewise explain: cannot read ${request.errorLog}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`,
      );
      return 1;
    }
    const analysis = await analyzeLog(lines(stream));
    io.stdout(
      request.json
        ? `${JSON.stringify(analysis)}\n`
        : renderLogAnalysis(analysis, { color: request.color, ...(request.width ? { width: request.width } : {}) }),
    );
    return 0;
  }
  const write = (line: string, first: boolean): void => {
    const explanation = explainLine(line);
    if (request.json) io.stdout(`${JSON.stringify(explanation)}\n`);
    else io.stdout(`${first ? '' : '\n'}${renderExplanation(explanation, { color: request.color })}`);
  };
  let first = true;
  if (request.lines.length > 0) {
    for (const line of request.lines) {
      write(line, first);
      first = false;
    }
    return 0;
  }
  for await (const line of lines(io.input)) {
    if (line.trim() === '') continue;
    write(line, first);
    first = false;
  }
  return 0;
}

/** `gatewise explain [LINE...]`: what a gateway log line says about a failure, and what to check. */
export default defineCommand({
  meta: {
    name: 'explain',
    description:
      'Explain gateway log lines (nginx, ingress-nginx, Envoy, HAProxy, Traefik, Caddy, AWS ALB, Node.js, Gatewise): error type, likely causes, what to check. Reads stdin when no LINE is given.',
  },
  args: {
    line: { type: 'positional', required: false, description: 'log line(s), each one argument' },
    json: { type: 'boolean', description: 'one JSON object per line (NDJSON)' },
    'error-log': {
      type: 'string',
      description:
        'analyse a whole error log (nginx, Gatewise, ...): failures grouped, per-minute histogram; - = stdin',
    },
  },
  async run({ args }): Promise<number> {
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    const given = args._.filter((line) => line !== '');
    if (given.length === 0 && args['error-log'] === undefined && process.stdin.isTTY)
      process.stderr.write('gatewise explain: reading log lines from stdin (Ctrl-D to end)\n');
    return runExplain(
      {
        lines: given,
        json: Boolean(args.json),
        color,
        ...(args['error-log'] !== undefined ? { errorLog: args['error-log'] } : {}),
        ...(process.stdout.columns ? { width: process.stdout.columns } : {}),
      },
      {
        input: process.stdin,
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      },
    );
  },
});
