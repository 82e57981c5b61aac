/** What one measured run of one target produced. Proxy-only fields are undefined for `direct`. */
export interface RunMeasurement {
  requestsPerSec: number;
  /** Undefined when no request completed (wrk then prints zeros that are not latencies). */
  p50Us: number | undefined;
  p99Us: number | undefined;
  requests: number;
  /** Socket errors plus non-2xx/3xx responses reported by wrk. */
  errors: number;
  cpuUsPerRequest: number | undefined;
  rssBytes: number | undefined;
  /** Connections the backend accepted during the run (new upstream connections). */
  newUpstreamConnections: number | undefined;
  /** Established connections from the proxy to the backend when the run ended. */
  openUpstreamConnections: number | undefined;
}

/** Everything measured for one target in one scenario. */
export interface TargetOutcome {
  name: string;
  label: string;
  runs: RunMeasurement[];
  /** Why the target did not run, or stopped running; shown instead of or under its figures. */
  problem: string | undefined;
}

/** Medians over a target's runs (errors are summed: one failing run must show). */
export interface TargetSummary {
  name: string;
  label: string;
  runs: number;
  problem: string | undefined;
  requestsPerSec: number | undefined;
  p50Us: number | undefined;
  p99Us: number | undefined;
  cpuUsPerRequest: number | undefined;
  rssBytes: number | undefined;
  newUpstreamConnections: number | undefined;
  openUpstreamConnections: number | undefined;
  errors: number;
}

/** The median of the defined values; undefined when there are none. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function ratio(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined || reference === 0) return undefined;
  return value / reference;
}

export function summarise(outcome: TargetOutcome): TargetSummary {
  const pick = <K extends keyof RunMeasurement>(key: K) => median(outcome.runs.map((r) => r[key]));
  return {
    name: outcome.name,
    label: outcome.label,
    runs: outcome.runs.length,
    problem: outcome.problem,
    requestsPerSec: pick('requestsPerSec'),
    p50Us: pick('p50Us'),
    p99Us: pick('p99Us'),
    cpuUsPerRequest: pick('cpuUsPerRequest'),
    rssBytes: pick('rssBytes'),
    newUpstreamConnections: pick('newUpstreamConnections'),
    openUpstreamConnections: pick('openUpstreamConnections'),
    errors: outcome.runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

export const COLUMNS = [
  'target',
  'req/s',
  'req/s ×nginx',
  'p50',
  'p99',
  'p99 ×nginx',
  'CPU µs/req',
  'CPU ×nginx',
  'RSS MiB',
  'upstream new',
  'upstream open',
  'errors',
] as const;

/** A table row: figures, or a target that has none and a note saying why. */
export type TableRow = { cells: string[] } | { label: string; note: string };

const blank = '–';

export function formatLatency(us: number | undefined): string {
  if (us === undefined) return blank;
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 100_000) return `${(us / 1000).toFixed(2)} ms`;
  return `${Math.round(us / 1000)} ms`;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? blank : value.toFixed(digits);
}

/** Rows for one scenario; ratios are to the summary named `referenceName` when it has figures. */
export function scenarioRows(summaries: readonly TargetSummary[], referenceName = 'nginx'): TableRow[] {
  const reference = summaries.find((s) => s.name === referenceName && s.runs > 0);
  return summaries.map((s): TableRow => {
    if (s.runs === 0) return { label: s.label, note: s.problem ?? 'no runs' };
    return {
      cells: [
        s.label,
        fixed(s.requestsPerSec, 0),
        fixed(ratio(s.requestsPerSec, reference?.requestsPerSec), 2),
        formatLatency(s.p50Us),
        formatLatency(s.p99Us),
        fixed(ratio(s.p99Us, reference?.p99Us), 2),
        fixed(s.cpuUsPerRequest, 1),
        fixed(ratio(s.cpuUsPerRequest, reference?.cpuUsPerRequest), 2),
        fixed(s.rssBytes === undefined ? undefined : s.rssBytes / (1024 * 1024), 1),
        fixed(s.newUpstreamConnections, 0),
        fixed(s.openUpstreamConnections, 0),
        String(s.errors),
      ],
    };
  });
}

/** Problems of targets that did produce figures (a crash in a later run, say), one line each. */
export function scenarioNotes(summaries: readonly TargetSummary[]): string[] {
  const notes = summaries.filter((s) => s.runs > 0 && s.problem !== undefined).map((s) => `${s.label}: ${s.problem}`);
  const one = summaries.find((s) => s.name === 'gatewise-w1');
  const two = summaries.find((s) => s.name === 'gatewise-w2');
  const scaling = ratio(two?.requestsPerSec, one?.requestsPerSec);
  if (scaling !== undefined)
    notes.push(
      `--workers 2 / --workers 1: ${scaling.toFixed(2)}× req/s (the second core also runs wrk and the backend)`,
    );
  return notes;
}

/** A plain-text table: first column left-aligned, figures right-aligned, notes after the label. */
export function formatText(headers: readonly string[], rows: readonly TableRow[]): string {
  const widths = headers.map((h) => [...h].length);
  for (const row of rows) {
    const cells = 'cells' in row ? row.cells : [row.label];
    cells.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat(Math.max(0, widths[i]! - [...text].length));
    return i === 0 ? text + gap : gap + text;
  };
  const line = (cells: readonly string[]): string => cells.map(pad).join('  ').trimEnd();
  const out = [line(headers), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) out.push('cells' in row ? line(row.cells) : `${pad(row.label, 0)}  ${row.note}`);
  return out.join('\n');
}

function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * A GitHub-flavoured Markdown table, padded and aligned the way the project's formatter (Biome)
 * writes tables, so a generated report passes `biome check` untouched. A note fills the second column.
 */
export function formatMarkdown(headers: readonly string[], rows: readonly TableRow[]): string {
  const body = rows.map((row) =>
    ('cells' in row ? row.cells : [row.label, row.note, ...headers.slice(2).map(() => blank)]).map(markdownCell),
  );
  const head = headers.map(markdownCell);
  const widths = head.map((h, i) => Math.max(3, [...h].length, ...body.map((cells) => [...(cells[i] ?? '')].length)));
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat(widths[i]! - [...text].length);
    return i === 0 ? text + gap : gap + text;
  };
  const line = (cells: readonly string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(head), rule, ...body.map(line)].join('\n');
}
