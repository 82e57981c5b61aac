/**
 * Caddy's logs (zap), JSON by default or the console encoder's tab-separated "time level logger msg
 * {fields}". Read from caddyhttp's errLogValues() and reverseproxy.go: the error logger
 * ("http.log.error[.NAME]") writes the Go error as msg with "status", "err_id" and "err_trace"; the
 * reverse proxy's debug logger ("http.handlers.reverse_proxy") writes "upstream roundtrip" with
 * "upstream" and "error" for each failed attempt, and "aborting with incomplete response" when a
 * response broke mid-body; "no upstreams available" (503) when no upstream is healthy. Access lines
 * ("http.log.access", msg "handled request") carry the status only.
 */
import { explainAccess } from './access.js';
import { goError, isClientCancel, upstreamOfGoError } from './go-errors.js';
import { fromEpochSeconds, fromIso, fromSlashDate } from './time.js';
import type { Finding, LineInput, Recogniser } from './types.js';

interface ZapRecord {
  logger: string;
  msg: string;
  level: string;
  fields: Readonly<Record<string, unknown>>;
  time: string | undefined;
}

function fromError(record: ZapRecord, error: string, status: number | undefined): Finding {
  const base = {
    source: 'caddy' as const,
    ...(record.time !== undefined ? { time: record.time } : {}),
  };
  // Caddy writes a unix upstream as network and address joined: "unix//run/app.sock".
  const named =
    typeof record.fields['upstream'] === 'string'
      ? record.fields['upstream'].replace(/^unix\/\//, 'unix:/')
      : upstreamOfGoError(error);
  const upstream = named !== undefined ? { upstream: named } : {};
  if (isClientCancel(error)) {
    return {
      ...base,
      error: null,
      cause: 'other',
      why: 'the client went away (context canceled); Caddy logs it as 499',
      summary: 'client closed the request',
      confidence: 'high',
    };
  }
  if (/no upstreams available/.test(error)) {
    return {
      ...base,
      code: 'GW_NO_SERVER',
      phase: 'select',
      why: 'every upstream is unhealthy (health checks or passive failures) or at its max_requests',
      summary: 'no upstreams available (503)',
      confidence: 'high',
    };
  }
  const body = goError(error);
  const suffix = status !== undefined ? ` (${status})` : '';
  if (body === undefined) {
    return {
      ...base,
      ...upstream,
      error: status === 502 ? 'connection_terminated' : status === 504 ? 'connection_read_timeout' : null,
      cause: 'other',
      why: `Caddy logged: ${error}`,
      summary: `${error}${suffix}`,
      confidence: 'low',
    };
  }
  return { ...base, ...upstream, ...body, summary: `${body.summary}${suffix}` };
}

function explain(record: ZapRecord): Finding | undefined {
  const { logger, msg, fields } = record;
  const error = typeof fields['error'] === 'string' ? fields['error'] : undefined;
  const status = typeof fields['status'] === 'number' ? fields['status'] : undefined;
  if (logger.startsWith('http.log.error')) return fromError(record, msg, status);
  if (logger.startsWith('http.handlers.reverse_proxy')) {
    if (msg === 'aborting with incomplete response' && error !== undefined && !isClientCancel(error)) {
      return {
        ...fromError(record, error, undefined),
        code: 'GW_BODY_INCOMPLETE',
        phase: 'read_body',
        summary: `response from upstream cut short: ${error}`,
      };
    }
    if (error !== undefined) return fromError(record, error, undefined);
    return undefined;
  }
  if (logger.startsWith('http.log.access') && status !== undefined) {
    return explainAccess({
      source: 'caddy',
      status,
      ...(record.time !== undefined ? { time: record.time } : {}),
      errorLog: "Caddy's error log (logger http.log.error) for the same request",
    });
  }
  return undefined;
}

function fromJson(json: Readonly<Record<string, unknown>>): ZapRecord | undefined {
  if (typeof json['logger'] !== 'string' || typeof json['msg'] !== 'string') return undefined;
  return {
    logger: json['logger'],
    msg: json['msg'],
    level: String(json['level'] ?? ''),
    fields: json,
    time: fromEpochSeconds(json['ts']) ?? fromIso(json['ts']),
  };
}

/** The console encoder: time, level, logger, message and the fields as JSON, separated by tabs. */
function fromConsole(line: string): ZapRecord | undefined {
  const parts = line.split('\t');
  if (parts.length < 4) return undefined;
  const [time, level, logger, msg, rest] = parts;
  if (!/^(?:DEBUG|INFO|WARN|ERROR)$/.test(level!) || !/^http\./.test(logger!)) return undefined;
  let fields: Record<string, unknown> = {};
  if (rest?.startsWith('{')) {
    try {
      fields = JSON.parse(rest) as Record<string, unknown>;
    } catch {
      fields = {};
    }
  }
  return { logger: logger!, msg: msg!, level: level!, fields, time: fromIso(time) ?? fromSlashDate(time!) };
}

function recognise(input: LineInput): Finding | undefined {
  const record = input.json !== undefined ? fromJson(input.json) : fromConsole(input.line);
  return record === undefined ? undefined : explain(record);
}

export const caddy: Recogniser = { source: 'caddy', recognise };
