/**
 * Error-log analysis: every line through `explainLine`, failures grouped by (error type, top cause,
 * upstream) with counts, first and last seen and counts per minute, for `gatewise explain
 * --error-log` and `gatewise doctor`. Lines that are not failures (answered requests, notices,
 * client aborts) are counted as skipped.
 */
import { type Explanation, explainLine } from './explain/index.js';
import { dateOf } from './explain/time.js';
import { type ErrorType, ROOT_CAUSES, type RootCause } from './taxonomy.js';

export interface MinuteCount {
  /** Start of the minute, ISO 8601 in UTC. */
  minute: string;
  count: number;
}

export interface LogGroup {
  error: ErrorType;
  cause: RootCause;
  /** The upstream the lines name; '' when they name none. */
  upstream: string;
  /** The format of the first line of the group. */
  source: string;
  count: number;
  /** Times as the lines wrote them (ISO 8601), when they carry one. */
  firstSeen?: string;
  lastSeen?: string;
  perMinute: MinuteCount[];
  /** The explanation of the group's first line, for its summary, causes and checks. */
  example: Explanation;
}

export interface LogAnalysis {
  /** Lines read, blank ones included. */
  lines: number;
  failures: number;
  /** Recognised lines that are not failures, and blank lines. */
  skipped: number;
  /** Lines no recogniser knew (counted in skipped too). */
  unrecognised: number;
  /** Recognised lines by format. */
  sources: Record<string, number>;
  /** Most frequent first. */
  groups: LogGroup[];
  /** Failures per minute over all groups, in time order, minutes without failures included. */
  perMinute: MinuteCount[];
  firstSeen?: string;
  lastSeen?: string;
  /** When the analysis was made (opts.now). */
  generatedAt: string;
}

/** More minutes than this are not filled in one by one (a log spanning months). */
const MAX_FILLED_MINUTES = 7 * 24 * 60;
const MINUTE_MS = 60_000;

interface Building {
  group: LogGroup;
  minutes: Map<number, number>;
  firstMs: number;
  lastMs: number;
}

class Analyzer {
  private readonly groups = new Map<string, Building>();
  private readonly minutes = new Map<number, number>();
  /** Gatewise access records of failed requests, dropped when the request's failure records are in the log too. */
  private readonly pendingAccess = new Map<string, Explanation[]>();
  private readonly failedRequests = new Set<string>();
  private firstMs = Number.POSITIVE_INFINITY;
  private lastMs = Number.NEGATIVE_INFINITY;
  private first: string | undefined;
  private last: string | undefined;
  lines = 0;
  skipped = 0;
  unrecognised = 0;
  readonly sources: Record<string, number> = {};

  add(line: string): void {
    this.lines++;
    if (line.trim() === '') {
      this.skipped++;
      return;
    }
    const explanation = explainLine(line);
    if (explanation.source === 'unknown') this.unrecognised++;
    else this.sources[explanation.source] = (this.sources[explanation.source] ?? 0) + 1;
    if (explanation.error === null) {
      this.skipped++;
      return;
    }
    if (explanation.source === 'gatewise') {
      // Gatewise writes one record per failed attempt and one access record per request: count the
      // attempts, and a failed request's access record only when its attempt records are missing.
      const requestId = /"request_id":"([^"]+)"/.exec(line)?.[1];
      const access = /"msg":"access"/.test(line);
      if (requestId !== undefined && access) {
        const pending = this.pendingAccess.get(requestId);
        if (pending) pending.push(explanation);
        else this.pendingAccess.set(requestId, [explanation]);
        return;
      }
      if (requestId !== undefined) this.failedRequests.add(requestId);
    }
    this.count(explanation);
  }

  private count(explanation: Explanation): void {
    const error = explanation.error!;
    const cause = explanation.causes[0]!.cause;
    const upstream = explanation.upstream ?? '';
    const key = `${error}\u0000${cause}\u0000${upstream}`;
    let building = this.groups.get(key);
    if (building === undefined) {
      building = {
        group: { error, cause, upstream, source: explanation.source, count: 0, perMinute: [], example: explanation },
        minutes: new Map(),
        firstMs: Number.POSITIVE_INFINITY,
        lastMs: Number.NEGATIVE_INFINITY,
      };
      this.groups.set(key, building);
    }
    building.group.count++;
    const date = dateOf(explanation.time);
    if (date === undefined) return;
    const ms = date.getTime();
    const minute = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
    building.minutes.set(minute, (building.minutes.get(minute) ?? 0) + 1);
    this.minutes.set(minute, (this.minutes.get(minute) ?? 0) + 1);
    if (ms < building.firstMs) {
      building.firstMs = ms;
      building.group.firstSeen = explanation.time!;
    }
    if (ms >= building.lastMs) {
      building.lastMs = ms;
      building.group.lastSeen = explanation.time!;
    }
    if (ms < this.firstMs) {
      this.firstMs = ms;
      this.first = explanation.time;
    }
    if (ms >= this.lastMs) {
      this.lastMs = ms;
      this.last = explanation.time;
    }
  }

  finish(now: Date): LogAnalysis {
    for (const [requestId, pending] of this.pendingAccess) {
      if (this.failedRequests.has(requestId)) this.skipped += pending.length;
      else for (const explanation of pending) this.count(explanation);
    }
    const groups = [...this.groups.values()]
      .map((b) => ({ ...b.group, perMinute: fill(b.minutes, this.firstMs, this.lastMs) }))
      .sort((a, b) => b.count - a.count || (a.firstSeen ?? '').localeCompare(b.firstSeen ?? ''));
    const analysis: LogAnalysis = {
      lines: this.lines,
      failures: groups.reduce((sum, g) => sum + g.count, 0),
      skipped: this.skipped,
      unrecognised: this.unrecognised,
      sources: this.sources,
      groups,
      perMinute: fill(this.minutes, this.firstMs, this.lastMs),
      generatedAt: now.toISOString(),
    };
    if (this.first !== undefined) analysis.firstSeen = this.first;
    if (this.last !== undefined) analysis.lastSeen = this.last;
    return analysis;
  }
}

/** Counts per minute from the first to the last minute of the log, empty minutes as 0. */
function fill(minutes: ReadonlyMap<number, number>, fromMs: number, toMs: number): MinuteCount[] {
  if (minutes.size === 0 || !Number.isFinite(fromMs)) return [];
  const from = Math.floor(fromMs / MINUTE_MS) * MINUTE_MS;
  const to = Math.floor(toMs / MINUTE_MS) * MINUTE_MS;
  if ((to - from) / MINUTE_MS > MAX_FILLED_MINUTES) {
    return [...minutes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([minute, count]) => ({ minute: new Date(minute).toISOString(), count }));
  }
  const out: MinuteCount[] = [];
  for (let minute = from; minute <= to; minute += MINUTE_MS)
    out.push({ minute: new Date(minute).toISOString(), count: minutes.get(minute) ?? 0 });
  return out;
}

/** Reads every line (a file's lines, stdin, an array) and groups the failures. */
export async function analyzeLog(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: { now?: Date } = {},
): Promise<LogAnalysis> {
  const analyzer = new Analyzer();
  for await (const line of lines) analyzer.add(line);
  return analyzer.finish(opts.now ?? new Date());
}

export interface RenderLogOptions {
  color: boolean;
  /** Terminal width; 100 when not given. */
  width?: number;
}

const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'] as const;
const SPARKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const MAX_HISTOGRAM_ROWS = 30;

const STYLE = {
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  reset: '\u001b[0m',
} as const;

/** A bar of `value / max` of `width` cells, with eighth blocks for the last cell. */
function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + BLOCKS[eighths % 8];
}

function spark(counts: readonly number[]): string {
  const max = Math.max(...counts, 0);
  if (max === 0) return '';
  return counts.map((c) => (c === 0 ? ' ' : SPARKS[Math.min(7, Math.floor((c / max) * 7.999))])).join('');
}

/** Sums consecutive minutes into at most `buckets` buckets. */
function bucket(minutes: readonly MinuteCount[], buckets: number): { size: number; rows: MinuteCount[] } {
  const size = Math.max(1, Math.ceil(minutes.length / buckets));
  const rows: MinuteCount[] = [];
  for (let i = 0; i < minutes.length; i += size) {
    const slice = minutes.slice(i, i + size);
    rows.push({ minute: slice[0]!.minute, count: slice.reduce((sum, m) => sum + m.count, 0) });
  }
  return { size, rows };
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local clock time of an ISO string; the date too when the log spans more than one day. */
function clock(iso: string | undefined, withDate: boolean): string {
  const date = dateOf(iso);
  if (date === undefined) return '-';
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return withDate ? `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${time}` : time;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(1, width - 1))}…`;
}

/** The analysis for a terminal: counts, a table of groups, a per-minute histogram and the top hint. */
export function renderLogAnalysis(a: LogAnalysis, opts: RenderLogOptions): string {
  const width = Math.max(60, opts.width ?? 100);
  const paint = (style: keyof typeof STYLE, text: string): string =>
    opts.color ? `${STYLE[style]}${text}${STYLE.reset}` : text;
  const out: string[] = [];
  const formats = Object.entries(a.sources)
    .sort((x, y) => y[1] - x[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  out.push(
    `${paint('bold', `${a.failures} failure${a.failures === 1 ? '' : 's'}`)} in ${a.lines} line${a.lines === 1 ? '' : 's'}` +
      ` (${a.skipped} skipped as not failures${a.unrecognised > 0 ? `, ${a.unrecognised} not recognised` : ''})` +
      (formats ? ` — ${formats}` : ''),
  );
  if (a.groups.length === 0) {
    out.push('No failures found.');
    return `${out.join('\n')}\n`;
  }
  const multiDay = (a.firstSeen ?? '').slice(0, 10) !== (a.lastSeen ?? '').slice(0, 10);
  if (a.firstSeen !== undefined) out.push(`from ${clock(a.firstSeen, true)} to ${clock(a.lastSeen, multiDay)}`);
  out.push('');

  // The table: one row per group, with its trend over the whole log.
  const trendWidth = Math.min(20, a.perMinute.length);
  const headers = ['count', 'error', 'cause', 'upstream', 'first', 'last', trendWidth > 1 ? 'trend' : ''];
  const rows = a.groups.map((g) => [
    String(g.count),
    g.error,
    g.cause,
    g.upstream || '-',
    clock(g.firstSeen, multiDay),
    clock(g.lastSeen, multiDay),
    trendWidth > 1 ? spark(bucket(alignTo(g.perMinute, a.perMinute), trendWidth).rows.map((m) => m.count)) : '',
  ]);
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  // Shrink the upstream column first when the table is wider than the terminal.
  const total = widths.reduce((sum, w) => sum + w + 2, 0);
  if (total > width) widths[3] = Math.max(24, widths[3]! - (total - width));
  const line = (cells: readonly string[], header: boolean): string =>
    cells
      .map((cell, c) => {
        const text = cut(cell, widths[c]!);
        const padded = c === 0 ? text.padStart(widths[c]!) : text.padEnd(widths[c]!);
        if (header) return paint('bold', padded);
        if (c === 0) return paint('yellow', padded);
        if (c === 1) return paint('red', padded);
        if (c === 6) return paint('cyan', padded);
        return padded;
      })
      .join('  ')
      .trimEnd();
  out.push(line(headers, true));
  for (const row of rows) out.push(line(row, false));

  // The histogram of all failures per minute (or per bucket of minutes).
  if (a.perMinute.length > 0) {
    const { size, rows: buckets } = bucket(a.perMinute, MAX_HISTOGRAM_ROWS);
    const max = Math.max(...buckets.map((b) => b.count));
    const countWidth = String(max).length;
    const labelWidth = clock(buckets[0]!.minute, multiDay).length - 3;
    const barWidth = Math.max(10, width - labelWidth - countWidth - 4);
    out.push('');
    out.push(paint('bold', size === 1 ? 'failures per minute' : `failures per ${size} minutes`));
    for (const b of buckets) {
      const label = clock(b.minute, multiDay).slice(0, -3);
      out.push(
        `${paint('dim', label)} ${String(b.count).padStart(countWidth)} ${paint('red', bar(b.count, max, barWidth))}`.trimEnd(),
      );
    }
  }

  const top = a.groups[0]!;
  out.push('');
  out.push(...wrap(`${paint('bold', 'most frequent')}: ${top.example.summary}`, width, ''));
  out.push(...wrap(`${top.cause}: ${top.example.causes[0]!.why}`, width, '  '));
  out.push(...wrap(`hint: ${ROOT_CAUSES[top.cause].hint}`, width, '  '));
  const check = top.example.checks.find((c) => c.command !== undefined);
  if (check !== undefined) {
    out.push(...wrap(`check: ${check.what}`, width, '  '));
    out.push(`    ${paint('cyan', `$ ${check.command}`)}`);
  }
  return `${out.join('\n')}\n`;
}

/** Words wrapped to `width` columns, each line starting with `indent` (continuations two more). */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(' ')) {
    if (line.trim() !== '' && visible(line).length + 1 + visible(word).length > width) {
      lines.push(line);
      line = `${indent}  ${word}`;
    } else {
      line = line.trim() === '' ? `${line}${word}` : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Text without ANSI colour codes, for measuring. */
function visible(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** A group's minutes placed on the whole log's minutes (a group may start later or end sooner). */
function alignTo(group: readonly MinuteCount[], all: readonly MinuteCount[]): MinuteCount[] {
  const counts = new Map(group.map((m) => [m.minute, m.count]));
  return all.map((m) => ({ minute: m.minute, count: counts.get(m.minute) ?? 0 }));
}
