import { defineCommand } from 'citty';
import { ADMIN_ARGS, adminTarget } from './admin-client.js';

/** The parts of the admin `/api/status` answer this command reads; everything else is passed over. */
export interface StatusServerStats {
  requests_per_s: number;
  error_ratio: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface StatusServer {
  url: string;
  available?: boolean;
  healthy?: boolean;
  draining?: boolean;
  passive?: string;
  breaker?: string;
  inflight?: number;
  weight?: number;
  backup?: boolean;
  stats?: StatusServerStats;
  /** For a managed server: its process. */
  process?: { state: string; pid: number | null; restarts: number; last_exit: string | null };
}

export interface StatusUpstream {
  name: string;
  balance?: string;
  panic?: boolean;
  queued?: number;
  servers: StatusServer[];
}

export interface StatusAlert {
  name: string;
  state: string;
  severity: string;
  labels: Record<string, string>;
  summary?: string;
}

export interface StatusJson {
  pid?: number;
  uptime_s?: number;
  config_generation?: number;
  listen?: string[];
  connections?: number;
  /** The worker processes (`serve --workers`). */
  workers?: Array<{ pid: number }>;
  worker_restarts?: number;
  upstreams: StatusUpstream[];
  /** Pending and firing alerts. */
  alerts?: StatusAlert[];
}

export interface RenderOptions {
  /** ANSI colours (only for a terminal). */
  color?: boolean;
}

const RED = '\u001b[31m';
const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/** The state column, worst reason first: why a server takes no traffic matters more than that it doesn't. */
export function serverState(server: StatusServer, upstream: StatusUpstream): string {
  let state: string;
  if (server.draining) state = 'draining';
  else if (server.process !== undefined && server.process.state !== 'ready') state = `process ${server.process.state}`;
  else if (server.passive === 'ejected') state = 'ejected';
  else if (server.breaker === 'open') state = 'breaker open';
  else if (server.healthy === false || server.available === false) state = 'DOWN';
  else if (server.breaker === 'half_open') state = 'breaker half-open';
  else state = 'up';
  // Panic routing sends traffic to servers that would otherwise be left out.
  if (upstream.panic && state !== 'up' && state !== 'draining' && !state.startsWith('process ')) state = 'panic';
  return state;
}

function stateColour(state: string): string {
  if (state === 'up') return GREEN;
  if (
    state === 'draining' ||
    state === 'breaker half-open' ||
    state === 'process starting' ||
    state === 'process backoff'
  )
    return YELLOW;
  return RED;
}

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return value >= 100 ? `${Math.round(value)}ms` : `${Number(value.toFixed(1))}ms`;
}

const HEADERS = ['server', 'state', 'in-flight', 'req/s', 'errors', 'p50', 'p99'] as const;

/** A readable table: each upstream, then one line per server. */
export function renderStatus(json: StatusJson, options: RenderOptions = {}): string {
  const color = options.color ?? false;
  const lines: string[] = [];
  const head: string[] = [];
  if (json.pid !== undefined) head.push(`pid ${json.pid}`);
  if (json.uptime_s !== undefined) head.push(`up ${json.uptime_s}s`);
  if (json.config_generation !== undefined) head.push(`config generation ${json.config_generation}`);
  if (json.listen !== undefined && json.listen.length > 0) head.push(`listening on ${json.listen.join(', ')}`);
  if (json.connections !== undefined) head.push(`${json.connections} client connections`);
  if (json.workers !== undefined)
    head.push(
      `${json.workers.length} workers (${json.workers.map((w) => w.pid).join(', ')})` +
        (json.worker_restarts ? `, ${json.worker_restarts} replaced` : ''),
    );
  if (head.length > 0) lines.push(`gatewise: ${head.join(', ')}`);

  const rows: string[][] = [];
  const states: Array<string | null> = [];
  for (const upstream of json.upstreams) {
    const notes: string[] = [];
    if (upstream.balance) notes.push(upstream.balance);
    if (upstream.panic) notes.push('PANIC: too few healthy servers, sending to all');
    if (upstream.queued) notes.push(`${upstream.queued} queued`);
    rows.push([`upstream ${upstream.name}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`]);
    states.push(null);
    for (const server of upstream.servers) {
      const state = serverState(server, upstream);
      const s = server.stats;
      rows.push([
        `  ${server.url}${server.backup ? ' (backup)' : ''}`,
        state,
        String(server.inflight ?? '-'),
        s ? String(Number(s.requests_per_s.toFixed(2))) : '-',
        s ? `${Number((s.error_ratio * 100).toFixed(1))}%` : '-',
        ms(s?.p50_ms),
        ms(s?.p99_ms),
      ]);
      states.push(state);
    }
  }

  const widths = HEADERS.map((h, c) =>
    Math.max(h.length, ...rows.filter((r) => r.length > 1).map((r) => (r[c] ?? '').length)),
  );
  const pad = (cells: readonly string[], state: string | null): string =>
    cells
      .map((cell, c) => {
        const padded = c === 0 || c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!);
        return color && c === 1 && state !== null ? `${stateColour(state)}${padded}${RESET}` : padded;
      })
      .join('  ')
      .trimEnd();
  if (lines.length > 0) lines.push('');
  const header = pad(HEADERS, null);
  lines.push(color ? `${BOLD}${header}${RESET}` : header);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    lines.push(row.length === 1 ? (color ? `${BOLD}${row[0]}${RESET}` : row[0]!) : pad(row, states[i]!));
  }
  if (json.upstreams.length === 0) lines.push('(no upstreams)');
  if (json.alerts !== undefined) lines.push('', ...renderAlerts(json.alerts, color));
  return `${lines.join('\n')}\n`;
}

/** One line per pending or firing alert, firing first. */
function renderAlerts(alerts: readonly StatusAlert[], color: boolean): string[] {
  if (alerts.length === 0) return ['alerts: none firing'];
  const lines = [color ? `${BOLD}alerts${RESET}` : 'alerts'];
  for (const alert of alerts) {
    const where = [alert.labels.upstream, alert.labels.server].filter(Boolean).join(' / ');
    const state = alert.state.toUpperCase().padEnd(7);
    const tint = alert.state === 'firing' ? (alert.severity === 'critical' ? RED : YELLOW) : '';
    const shown = color && tint !== '' ? `${tint}${state}${RESET}` : state;
    lines.push(
      `  ${shown}  ${alert.name} (${alert.severity})${where ? ` ${where}` : ''}${alert.summary ? `: ${alert.summary}` : ''}`,
    );
  }
  return lines;
}

export interface StatusRequest {
  /** Admin `host:port`. */
  admin: string;
  token: string;
  json: boolean;
  color: boolean;
}

export interface StatusOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Fetches `/api/status` and prints it; returns the exit code (1 when the admin API cannot be read). */
export async function runStatus(request: StatusRequest, out: StatusOutput): Promise<number> {
  let response: Response;
  try {
    response = await fetch(`http://${request.admin}/api/status`, {
      headers: request.token ? { authorization: `Bearer ${request.token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    out.stderr(
      `gatewise status: cannot reach the admin API at ${request.admin}: ${e.cause?.code ?? e.cause?.message ?? e.message}\n`,
    );
    return 1;
  }
  const text = await response.text();
  if (!response.ok) {
    const hint = response.status === 401 ? ' (wrong or missing --token / $GATEWISE_ADMIN_TOKEN)' : '';
    out.stderr(`gatewise status: the admin API at ${request.admin} answered HTTP ${response.status}${hint}\n`);
    return 1;
  }
  let body: StatusJson;
  try {
    body = JSON.parse(text) as StatusJson;
    if (!Array.isArray(body.upstreams)) throw new TypeError('no "upstreams" array');
  } catch (error) {
    out.stderr(
      `gatewise status: ${request.admin} did not answer with gatewise status JSON: ${(error as Error).message}\n`,
    );
    return 1;
  }
  out.stdout(request.json ? `${JSON.stringify(body, null, 2)}\n` : renderStatus(body, { color: request.color }));
  return 0;
}

/** `gatewise status`: the state of every upstream server of a running gateway (admin GET /api/status). */
export default defineCommand({
  meta: { name: 'status', description: 'Show every upstream server of a running gateway (admin GET /api/status)' },
  args: {
    ...ADMIN_ARGS,
    json: { type: 'boolean', description: 'print the raw status JSON' },
  },
  async run({ args }): Promise<number> {
    const { address: admin, token } = await adminTarget(args);
    return runStatus(
      { admin, token, json: Boolean(args.json), color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR },
      {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      },
    );
  },
});
