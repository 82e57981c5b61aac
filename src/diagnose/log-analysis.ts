/**
 * Error-log analysis: every line through `explainLine`, failures grouped by (error type, top cause,
 * upstream) with counts, first and last seen and counts per minute, for `gatewise explain
 * --error-log` and `gatewise doctor`. Lines that are not failures (answered requests, notices,
 * client aborts) are counted as skipped.
 */
import { type Explanation, explainLine } from './explain/index.js';
import { dateOf } from './explain/time.js';
import type { ErrorType, RootCause } from './taxonomy.js';

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

export { type RenderLogOptions, renderLogAnalysis } from './log-render.js';
