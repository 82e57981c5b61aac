/** The log analysis drawn for a terminal: counts, a table of groups with trends, a histogram per minute. */
import { dateOf } from './explain/time.js';
import type { LogAnalysis, MinuteCount } from './log-analysis.js';
import { ROOT_CAUSES } from './taxonomy.js';

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
