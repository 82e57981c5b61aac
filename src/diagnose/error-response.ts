import { STATUS_CODES } from 'node:http';
import type { Failure } from './failure.js';
import { ERROR_TYPES } from './taxonomy.js';

export interface ErrorResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface ErrorResponseOptions {
  requestId: string;
  /** The request's Accept value ('' if none). */
  accept: string;
  /** `errors.verbose`: name addresses, codes and the detail line. Off by default: nothing internal leaks. */
  verbose: boolean;
  method: string;
  /** A `Via` value to add (RFC 9110 §7.6.3), e.g. '1.1 gatewise'. */
  via?: string;
}

/** The member name of this hop in `Proxy-Status` (RFC 9209 §2: an sf-token naming the intermediary). */
const PROXY_NAME = 'gatewise';
/** Problem type URIs (RFC 9457 §3.1.1): absolute, stable, and documenting the type when dereferenced. */
const PROBLEM_TYPE_BASE = 'https://gatewise.dev/errors/';
const MAX_DETAILS_CHARS = 512;

/**
 * The `Proxy-Status` field value (RFC 9209 §2): one list member naming this hop, with the error
 * type and, when verbose, `details` and `next-hop`, both as sf-strings (RFC 8941 §3.3.3).
 */
export function proxyStatusValue(failure: Failure, verbose: boolean): string {
  let value = `${PROXY_NAME}; error=${failure.type}`;
  if (!verbose) return value;
  if (failure.detail !== '') value += `; details=${sfString(failure.detail, MAX_DETAILS_CHARS)}`;
  if (failure.server !== '') value += `; next-hop=${sfString(failure.server, MAX_DETAILS_CHARS)}`;
  return value;
}

/**
 * An RFC 8941 §3.3.3 sf-string: printable ASCII only, with `\` and `"` escaped. Anything else
 * (controls, non-ASCII) is dropped rather than risk an unparsable field.
 */
function sfString(text: string, maxChars: number): string {
  let out = '';
  let kept = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char.length !== 1 || code < 0x20 || code > 0x7e) continue;
    if (kept >= maxChars) break;
    out += char === '\\' || char === '"' ? `\\${char}` : char;
    kept++;
  }
  return `"${out}"`;
}

/** Header values built from outside input (a request id echoed from the client) keep visible ASCII only. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '');
}

type BodyFormat = 'json' | 'html' | 'text';

function formatOfRange(range: string): BodyFormat | undefined {
  if (range === 'application/json' || range === 'application/problem+json' || range.endsWith('+json')) return 'json';
  if (range === 'text/html' || range === 'application/xhtml+xml') return 'html';
  if (range === 'text/plain' || range === 'text/*' || range === '*/*') return 'text';
  return undefined;
}

/**
 * Picks the body format from Accept (RFC 9110 §12.5.1): the acceptable format with the highest
 * weight, the first listed on a tie; plain text when nothing we make is asked for.
 */
function negotiate(accept: string): BodyFormat {
  let best: BodyFormat = 'text';
  let bestWeight = 0;
  for (const member of accept.split(',')) {
    const [rangePart = '', ...params] = member.split(';');
    const format = formatOfRange(rangePart.trim().toLowerCase());
    if (!format) continue;
    let weight = 1;
    for (const param of params) {
      const [name = '', value = ''] = param.split('=');
      if (name.trim().toLowerCase() === 'q') weight = Number.parseFloat(value.trim()) || 0;
    }
    if (weight > bestWeight) {
      best = format;
      bestWeight = weight;
    }
  }
  return best;
}

/** The facts every body format shows, already reduced to what the verbosity allows. */
interface Facts {
  statusLine: string;
  title: string;
  detail: string;
  failure: Failure;
  requestId: string;
  verbose: boolean;
}

/** Builds the response Gatewise sends instead of a forwarded one. */
export function renderErrorResponse(failure: Failure, opts: ErrorResponseOptions): ErrorResponse {
  const info = ERROR_TYPES[failure.type];
  const facts: Facts = {
    statusLine: `${failure.status} ${STATUS_CODES[failure.status] ?? 'Error'}`,
    title: info.title,
    detail: opts.verbose ? failure.detail : info.explanation,
    failure,
    requestId: opts.requestId,
    verbose: opts.verbose,
  };
  const format = negotiate(opts.accept);
  const [contentType, text] =
    format === 'json'
      ? ['application/problem+json', problemJson(facts)]
      : format === 'html'
        ? ['text/html; charset=utf-8', html(facts)]
        : ['text/plain; charset=utf-8', plainText(facts)];
  const body = Buffer.from(text, 'utf8');
  const headers: Array<[string, string]> = [
    ['Content-Type', contentType],
    ['Content-Length', String(body.length)],
    ['Cache-Control', 'no-store'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Vary', 'Accept'],
    ['Proxy-Status', proxyStatusValue(failure, opts.verbose)],
    ['X-Request-Id', headerSafe(opts.requestId)],
  ];
  const retryAfterSeconds =
    failure.retryAfterSeconds ?? ('retryAfterSeconds' in info ? info.retryAfterSeconds : undefined);
  if (retryAfterSeconds !== undefined) {
    headers.push(['Retry-After', String(Math.max(0, Math.ceil(retryAfterSeconds)))]);
  }
  if (opts.via) headers.push(['Via', headerSafe(opts.via)]);
  // RFC 9110 §9.3.2: HEAD gets the header fields GET would, Content-Length included, and no content.
  const isHead = opts.method.toUpperCase() === 'HEAD';
  return { status: failure.status, headers, body: isHead ? Buffer.alloc(0) : body };
}

/** RFC 9457 problem details; extension members are snake_case like the rest of the wire vocabulary. */
function problemJson(facts: Facts): string {
  const { failure } = facts;
  const problem: Record<string, string | number> = {
    type: `${PROBLEM_TYPE_BASE}${failure.type}`,
    title: facts.title,
    status: failure.status,
    detail: facts.detail,
    proxy_status: failure.type,
    cause: failure.cause,
    hint: failure.hint,
    request_id: facts.requestId,
  };
  if (facts.verbose) {
    problem['upstream'] = failure.upstream;
    problem['server'] = failure.server;
    problem['phase'] = failure.phase;
    problem['code'] = failure.code;
  }
  return `${JSON.stringify(problem, null, 2)}\n`;
}

function verboseRows(failure: Failure): Array<[string, string]> {
  return [
    ['Upstream', failure.upstream],
    ['Server', failure.server],
    ['Phase', failure.phase],
    ['Code', failure.code],
  ];
}

function plainText(facts: Facts): string {
  const { failure } = facts;
  const lines = [
    `${facts.statusLine}: ${facts.title}`,
    facts.detail,
    '',
    `Likely cause: ${failure.cause}`,
    `What to check: ${failure.hint}`,
    `Proxy-Status: error=${failure.type}`,
    `Request id: ${facts.requestId}`,
  ];
  if (facts.verbose) for (const [name, value] of verboseRows(failure)) lines.push(`${name}: ${value}`);
  return `${lines.join('\n')}\n`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

const STYLE = [
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f7f9;color:#1f2328}',
  'main{max-width:40rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002}',
  '.status{margin:0;color:#b42318;font-weight:600;letter-spacing:.02em}',
  'h1{margin:.25rem 0 1rem;font-size:1.6rem}',
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;margin:1.5rem 0 0}',
  'dt{color:#59636e}dd{margin:0;overflow-wrap:anywhere}',
  'code{font:14px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f1f3;padding:0 .25rem;border-radius:4px}',
  'footer{margin-top:1.5rem;color:#8a939d;font-size:.85rem}',
].join('');

/** A small self-contained page: inline CSS, no scripts, no external assets, every value escaped. */
function html(facts: Facts): string {
  const { failure } = facts;
  const rows: Array<[string, string, boolean]> = [
    ['Likely cause', failure.cause, true],
    ['What to check', failure.hint, false],
    ['Proxy-Status', `error=${failure.type}`, true],
    ['Request id', facts.requestId, true],
  ];
  if (facts.verbose) for (const [name, value] of verboseRows(failure)) rows.push([name, value, true]);
  const list = rows
    .map(([name, value, code]) => {
      const shown = code ? `<code>${escapeHtml(value)}</code>` : escapeHtml(value);
      return `<dt>${escapeHtml(name)}</dt><dd>${shown}</dd>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${facts.statusLine} - ${facts.title}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="status">${escapeHtml(facts.statusLine)}</p>
<h1>${escapeHtml(facts.title)}</h1>
<p>${escapeHtml(facts.detail)}</p>
<dl>
${list}
</dl>
<footer>gatewise</footer>
</main>
</body>
</html>
`;
}
