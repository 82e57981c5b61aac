/**
 * Gatewise's own log (pino JSON, src/observe/log.ts and access-log.ts): "upstream failure" records
 * already carry the classification (proxy_status, cause, phase, code, detail, hint), so they are
 * explained from their fields, not guessed again; "access" records carry the final status and, for a
 * failed request, proxy_status and cause; "event: <kind>" records are state transitions of servers.
 */
import { ERROR_TYPES, type ErrorType, isErrorType, isRootCause, type RootCause } from '../taxonomy.js';
import { classifyCode } from './build.js';
import { errnoCodeIn } from './errno.js';
import { fromIso } from './time.js';
import type { Finding, LineInput, Recogniser } from './types.js';

type Json = Readonly<Record<string, unknown>>;

const SERVICE_MESSAGES =
  /^(?:gatewise started|configuration reloaded|reload refused|reload failed|shutting down|stopped)/;

function text(json: Json, key: string): string | undefined {
  const value = json[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function errorOf(json: Json): ErrorType | undefined {
  const value = text(json, 'proxy_status');
  return value !== undefined && isErrorType(value) ? value : undefined;
}

function causeOf(json: Json): RootCause {
  const value = text(json, 'cause');
  return value !== undefined && isRootCause(value) ? value : 'other';
}

function where(json: Json): string | undefined {
  return text(json, 'server') ?? text(json, 'upstream');
}

function failure(json: Json): Omit<Finding, 'source' | 'time'> {
  const error = errorOf(json) ?? 'proxy_internal_error';
  const detail = text(json, 'detail') ?? text(json, 'code') ?? 'no detail logged';
  const raced = json['keepalive_race_suspected'] === true;
  const upstream = where(json);
  const hint = text(json, 'hint');
  const phase = text(json, 'phase');
  return {
    error,
    cause: causeOf(json),
    ...(phase !== undefined ? { phase: phase as Finding['phase'] } : {}),
    ...(upstream !== undefined ? { upstream } : {}),
    why: `${detail}${raced ? ' (on a reused keep-alive connection)' : ''}`,
    ...(hint !== undefined ? { checks: [{ what: hint }] } : {}),
    summary: `${ERROR_TYPES[error].title}${upstream ? ` at ${upstream}` : ''} (request ${text(json, 'request_id') ?? '?'}, attempt ${json['attempt'] ?? '?'})`,
    confidence: 'high',
  };
}

function access(json: Json): Omit<Finding, 'source' | 'time'> {
  const status = typeof json['status'] === 'number' ? json['status'] : 0;
  const error = errorOf(json);
  const upstream = where(json);
  const request = `${text(json, 'method') ?? ''} ${text(json, 'path') ?? ''}`.trim();
  const base = upstream !== undefined ? { upstream } : {};
  if (error !== undefined) {
    return {
      ...base,
      error,
      cause: causeOf(json),
      why: `the request ${request} ended with ${error} after ${json['attempts'] ?? '?'} attempt(s); the "upstream failure" record of request ${text(json, 'request_id') ?? '?'} has the detail`,
      summary: `${status} ${ERROR_TYPES[error].title} for ${request}`,
      confidence: 'high',
    };
  }
  if (status === 499) {
    return {
      ...base,
      error: null,
      cause: 'other',
      why: 'the client went away before the answer',
      summary: `client closed the request ${request} (499)`,
      confidence: 'high',
    };
  }
  return {
    ...base,
    error: null,
    cause: 'other',
    why: status >= 500 ? `the upstream itself answered ${status}` : `answered ${status}`,
    summary:
      status >= 500 ? `the upstream answered ${status} for ${request}` : `not a failure (${status} for ${request})`,
    confidence: 'high',
  };
}

/** A server's state transition: not a request failure, but it says why requests move elsewhere or fail. */
function event(json: Json, kind: string): Omit<Finding, 'source' | 'time'> {
  const server = text(json, 'server') ?? text(json, 'upstream') ?? 'a server';
  const base = { ...(server !== 'a server' ? { upstream: server } : {}), error: null, confidence: 'high' as const };
  const reason = text(json, 'reason') ?? text(json, 'error') ?? '';
  const out =
    (kind === 'health' && json['to'] === 'unhealthy') ||
    kind === 'ejected' ||
    (kind === 'breaker' && json['to'] === 'open') ||
    (kind === 'panic' && json['active'] === true);
  if (kind === 'dns' && reason !== '') {
    return {
      ...base,
      cause: 'dns',
      why: `re-resolving ${text(json, 'host') ?? 'the host'} failed: ${reason}`,
      summary: `DNS refresh failed for ${text(json, 'upstream') ?? 'an upstream'}`,
    };
  }
  if (!out) {
    return {
      ...base,
      cause: 'other',
      why: `${kind} transition${reason ? ` (${reason})` : ''}`,
      summary: `${kind}: ${server} ${String(json['to'] ?? '')}`.trim(),
    };
  }
  const code = errnoCodeIn(reason);
  const cause = (code !== undefined ? classifyCode(code, 'connect')?.cause : undefined) ?? 'backend_down';
  const words: Record<string, string> = {
    health: `active health checks marked ${server} unhealthy${reason ? `: ${reason}` : ''}`,
    ejected: `passive health ejected ${server} after ${reason.replaceAll('_', ' ') || 'failures'}; the failure records before this line say why`,
    breaker: `the circuit breaker of ${server} opened (${reason.replaceAll('_', ' ')}); the failure records before this line say why`,
    panic: `too few healthy servers in ${text(json, 'upstream') ?? 'the upstream'}: traffic goes to all servers, healthy or not`,
  };
  return { ...base, cause, why: words[kind] ?? kind, summary: words[kind] ?? kind };
}

function recognise(input: LineInput): Finding | undefined {
  const json = input.json;
  if (json === undefined || typeof json['level'] !== 'number') return undefined;
  const msg = text(json, 'msg') ?? '';
  const time = fromIso(json['time']);
  const base = { source: 'gatewise' as const, ...(time !== undefined ? { time } : {}) };
  if (msg === 'upstream failure' && 'proxy_status' in json) return { ...base, ...failure(json) };
  if (msg === 'access' && 'request_id' in json) return { ...base, ...access(json) };
  const kind = /^event: (\w+)$/.exec(msg)?.[1];
  if (kind !== undefined) return { ...base, ...event(json, kind) };
  if (SERVICE_MESSAGES.test(msg)) {
    const problems = Array.isArray(json['problems']) ? `: ${json['problems'].join('; ')}` : '';
    return {
      ...base,
      error: null,
      cause: 'other',
      why: `${msg}${problems}`,
      summary: `${msg}${problems}`,
      confidence: 'high',
    };
  }
  return undefined;
}

export const gatewise: Recogniser = { source: 'gatewise', recognise };
