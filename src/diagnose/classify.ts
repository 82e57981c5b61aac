import { UPSTREAM_ERROR_CODES, type UpstreamErrorCode } from './errors.js';
import { type Failure, PHASES, type Phase } from './failure.js';
import { CLASSIFY_RULES, type ClassifyRule, REASON_PATTERNS, type RuleCondition } from './rules.js';
import { ERROR_TYPES, type ErrorType, ROOT_CAUSES, type RootCause } from './taxonomy.js';

export interface ClassifyContext {
  phase: Phase;
  upstream: string;
  server: string;
  attempt: number;
  reused: boolean;
  connectMs?: number;
  headMs?: number;
  /** The first bytes received from the upstream, when any (TLS records arriving on a plain-HTTP upstream). */
  firstBytes?: Buffer;
  /** Result of the one-off TLS probe when a fresh plain connection closed with no bytes. */
  serverSpeaksTls?: boolean;
  /** The server is a unix socket. */
  unixPath?: boolean;
  /** `Retry-After` seconds, when the caller knows better than the type's default. */
  retryAfterSeconds?: number;
}

/** The facts of one error that the rule conditions and detail templates read. */
interface ErrorFacts {
  code: string;
  reason: string;
  syscall: string;
  address: string;
  hostname: string;
  timeoutMs: number;
  retryAfterSeconds: number;
}

const EXACT_RULES = new Map<string, ClassifyRule[]>();
const PATTERN_RULES: { pattern: RegExp; rules: ClassifyRule[] }[] = [];
for (const rule of CLASSIFY_RULES) {
  if (rule.code.includes('*')) {
    const source = `^${rule.code.split('*').map(escapeRegExp).join('.*')}$`;
    const group = PATTERN_RULES.find((entry) => entry.pattern.source === source);
    if (group) group.rules.push(rule);
    else PATTERN_RULES.push({ pattern: new RegExp(source), rules: [rule] });
  } else {
    const rules = EXACT_RULES.get(rule.code);
    if (rules) rules.push(rule);
    else EXACT_RULES.set(rule.code, [rule]);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The rows for a code: its exact rows, else the rows of the first `*` pattern that matches it. */
export function rulesFor(code: string): readonly ClassifyRule[] {
  const exact = EXACT_RULES.get(code);
  if (exact) return exact;
  for (const entry of PATTERN_RULES) if (entry.pattern.test(code)) return entry.rules;
  return [];
}

/** A TLS record header (RFC 8446 §5.1): content type 20..23, then legacy version 3.x. */
export function isTlsRecordStart(bytes: Buffer | undefined): boolean {
  if (!bytes || bytes.length < 2) return false;
  const contentType = bytes[0]!;
  return contentType >= 0x14 && contentType <= 0x17 && bytes[1] === 0x03;
}

function matches(when: RuleCondition | undefined, ctx: ClassifyContext, facts: ErrorFacts): boolean {
  if (!when) return true;
  if (when.phase && !when.phase.includes(ctx.phase)) return false;
  if (when.reused !== undefined && when.reused !== ctx.reused) return false;
  if (when.serverSpeaksTls !== undefined && when.serverSpeaksTls !== (ctx.serverSpeaksTls === true)) return false;
  if (when.tlsBytes !== undefined && when.tlsBytes !== isTlsRecordStart(ctx.firstBytes)) return false;
  if (when.unixPath !== undefined && when.unixPath !== (ctx.unixPath === true)) return false;
  if (when.syscall !== undefined && when.syscall !== facts.syscall) return false;
  return true;
}

/** The row that classifies an error, and the facts of the (possibly nested) error it matched. */
function select(err: unknown, ctx: ClassifyContext): { rule: ClassifyRule; facts: ErrorFacts } | undefined {
  for (const candidate of candidates(err)) {
    const facts = factsOf(candidate);
    for (const rule of rulesFor(facts.code)) {
      if (matches(rule.when, ctx, facts)) return { rule, facts };
    }
  }
  return undefined;
}

/** The table row `classify()` uses for this error in this context; undefined when no row knows it. */
export function matchRule(err: unknown, ctx: ClassifyContext): ClassifyRule | undefined {
  try {
    return select(err, ctx)?.rule;
  } catch {
    return undefined;
  }
}

const UNKNOWN_RULE: ClassifyRule = {
  code: 'UNKNOWN',
  type: 'proxy_internal_error',
  cause: 'other',
  detail: '{op} failed ({code}: {reason}) {during}',
};

/**
 * Turns any error raised on the upstream path into the one Failure value. Looks at the error, then
 * its `cause` chain and the members of an AggregateError, for a code the table knows; anything
 * unknown becomes proxy_internal_error / other. Never throws.
 */
export function classify(err: unknown, ctx: ClassifyContext): Failure {
  try {
    const selected = select(err, ctx);
    if (selected) return build(selected.rule, selected.facts, ctx);
    return build(UNKNOWN_RULE, factsOf(err), ctx);
  } catch {
    // An error object hostile enough to throw from its own getters still yields a Failure.
    return failureOf('proxy_internal_error', 'other', 'UNKNOWN', 'unclassifiable error', ctx);
  }
}

/** A failure Gatewise decides itself (no route, no server, loop, limit, bad request). */
export function failureOf(
  type: ErrorType,
  cause: RootCause,
  code: string,
  detail: string,
  ctx: Partial<ClassifyContext> = {},
): Failure {
  const rules = rulesFor(code);
  const status = rules.find((rule) => rule.type === type && rule.status !== undefined)?.status;
  const phase = ctx.phase ?? rules.find((rule) => rule.phase !== undefined)?.phase ?? 'internal';
  const failure: Failure = {
    type,
    status: status ?? ERROR_TYPES[type].status,
    cause,
    hint: ROOT_CAUSES[cause].hint,
    phase,
    code,
    detail,
    upstream: ctx.upstream ?? '',
    server: ctx.server ?? '',
    attempt: ctx.attempt ?? 0,
    reused: ctx.reused ?? false,
    connectMs: ctx.connectMs ?? -1,
    headMs: ctx.headMs ?? -1,
  };
  if (ctx.retryAfterSeconds !== undefined) failure.retryAfterSeconds = ctx.retryAfterSeconds;
  return failure;
}

function build(rule: ClassifyRule, facts: ErrorFacts, ctx: ClassifyContext): Failure {
  const failure: Failure = {
    type: rule.type,
    status: rule.status ?? ERROR_TYPES[rule.type].status,
    cause: rule.cause,
    hint: ROOT_CAUSES[rule.cause].hint,
    phase: ctx.phase,
    code: facts.code,
    detail: renderDetail(rule.detail, facts, ctx),
    upstream: ctx.upstream,
    server: ctx.server,
    attempt: ctx.attempt,
    reused: ctx.reused,
    connectMs: ctx.connectMs ?? -1,
    headMs: ctx.headMs ?? -1,
  };
  const retryAfterSeconds = ctx.retryAfterSeconds ?? (facts.retryAfterSeconds > 0 ? facts.retryAfterSeconds : -1);
  if (retryAfterSeconds > 0) failure.retryAfterSeconds = retryAfterSeconds;
  return failure;
}

const PLACEHOLDER = /\{(\w+)\}/g;

function renderDetail(template: string, facts: ErrorFacts, ctx: ClassifyContext): string {
  const phase = PHASES[ctx.phase] ?? PHASES.internal;
  const server = ctx.server || facts.address || 'upstream';
  const values: Record<string, string> = {
    op: phase.op,
    during: phase.during,
    server,
    host: facts.hostname || hostOf(server),
    code: facts.code,
    reason: facts.reason || 'no reason given',
    timeout: facts.timeoutMs > 0 ? `${facts.timeoutMs} ms` : 'the configured time',
  };
  return template
    .replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole)
    .replace(/ {2,}/g, ' ')
    .trim();
}

function hostOf(server: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(server);
  if (bracketed) return bracketed[1]!;
  const colon = server.lastIndexOf(':');
  return colon > 0 && server.indexOf(':') === colon ? server.slice(0, colon) : server;
}

/** The error, its `cause` chain and AggregateError members, each once, at most a few levels deep. */
function* candidates(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 8) {
    const next = queue.shift();
    if (next === null || typeof next !== 'object' || seen.has(next)) continue;
    seen.add(next);
    yield next;
    const record = next as { cause?: unknown; errors?: unknown };
    if (Array.isArray(record.errors)) queue.push(...record.errors.slice(0, 4));
    if (record.cause !== undefined) queue.push(record.cause);
  }
}

const MAX_REASON_CHARS = 200;

function factsOf(err: unknown): ErrorFacts {
  const record = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const message = typeof err === 'string' ? err : stringOf(record['message']);
  const rawCode = stringOf(record['code']);
  let reason = stringOf(record['reason']) || firstLine(message);
  // An engine error that kept its default message is better explained by its cause's message.
  const cause = record['cause'];
  if (isDefaultEngineMessage(rawCode, message) && cause instanceof Error && cause.message !== '') {
    reason = firstLine(cause.message);
  }
  let code = rawCode;
  // A missing or generic code is refined by an unambiguous OpenSSL reason ("wrong version number").
  if (code === '' || code === 'EPROTO') {
    const known = REASON_PATTERNS.find((entry) => entry.pattern.test(reason));
    if (known) code = known.code;
  }
  const port = record['port'];
  const address = stringOf(record['address']);
  return {
    code: code || specificName(stringOf(record['name'])) || 'UNKNOWN',
    reason: reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}...` : reason,
    syscall: stringOf(record['syscall']),
    address: address && typeof port === 'number' ? `${address}:${port}` : address,
    hostname: stringOf(record['hostname']),
    timeoutMs: numberOf(record['timeoutMs']),
    retryAfterSeconds: numberOf(record['retryAfterSeconds']),
  };
}

function isDefaultEngineMessage(code: string, message: string): boolean {
  return Object.hasOwn(UPSTREAM_ERROR_CODES, code) && UPSTREAM_ERROR_CODES[code as UpstreamErrorCode] === message;
}

/** 'TypeError' says something about an error without a code; plain 'Error' says nothing. */
function specificName(name: string): string {
  return name === 'Error' ? '' : name;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : -1;
}

/** OpenSSL messages read "hex:error:hex:library:function:reason:file:line:"; keep the reason. */
function firstLine(message: string): string {
  const line = message.split('\n', 1)[0]!.trim();
  const openssl = /[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(line);
  return openssl ? openssl[1]! : line;
}

/** Well-known answers of TLS servers to a plain HTTP request, matched in the first bytes of the body. */
const PLAIN_HTTP_TO_TLS_ANSWERS: readonly RegExp[] = [
  /The plain HTTP request was sent to HTTPS port/i, // nginx (status 497, sent as 400)
  /Client sent an HTTP request to an HTTPS server/i, // Go net/http, hence Caddy and Traefik
  /speaking plain HTTP to an SSL-enabled server port/i, // Apache httpd mod_ssl
];

/**
 * Recognises the well-known answers of a TLS server to plain HTTP, given a response status and up
 * to the first 512 bytes of its body.
 */
export function isPlainHttpToTlsAnswer(status: number, bodyStart: string): boolean {
  if (status !== 400) return false;
  const start = bodyStart.length > 512 ? bodyStart.slice(0, 512) : bodyStart;
  return PLAIN_HTTP_TO_TLS_ANSWERS.some((pattern) => pattern.test(start));
}
