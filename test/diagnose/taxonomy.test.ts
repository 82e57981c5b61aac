import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CLASSIFY_RULES,
  type ClassifyContext,
  type ClassifyRule,
  classify,
  ERROR_TYPES,
  type ErrorType,
  matchRule,
  PHASES,
  REASON_PATTERNS,
  ROOT_CAUSES,
  rulesFor,
  UPSTREAM_ERROR_CODES,
} from '../../src/diagnose/index.js';

/** The proxy error types registered by RFC 9209 §2.3 (the IANA "HTTP Proxy Error Types" registry). */
const RFC_9209_TYPES = new Set([
  'dns_timeout',
  'dns_error',
  'destination_not_found',
  'destination_unavailable',
  'destination_ip_prohibited',
  'destination_ip_unroutable',
  'connection_refused',
  'connection_terminated',
  'connection_timeout',
  'connection_read_timeout',
  'connection_write_timeout',
  'connection_limit_reached',
  'tls_protocol_error',
  'tls_certificate_error',
  'tls_alert_received',
  'http_request_error',
  'http_request_denied',
  'http_response_incomplete',
  'http_response_header_section_size',
  'http_response_header_size',
  'http_response_body_size',
  'http_response_trailer_section_size',
  'http_response_trailer_size',
  'http_response_transfer_coding',
  'http_response_content_coding',
  'http_response_timeout',
  'http_upgrade_failed',
  'http_protocol_error',
  'proxy_internal_response',
  'proxy_internal_error',
  'proxy_configuration_error',
  'proxy_loop_detected',
]);

/** The fixed root-cause vocabulary of DESIGN.md, in its order. */
const DESIGN_ROOT_CAUSES = [
  'backend_down',
  'wrong_upstream_address',
  'firewall_or_network',
  'slow_backend',
  'tls_mismatch',
  'tls_config',
  'crash_or_oom',
  'dns',
  'keepalive_mismatch',
  'buffer_or_limit_config',
  'permission_or_selinux',
  'overload_or_exhaustion',
  'protocol_error',
  'other',
];

const PLACEHOLDERS = new Set(['op', 'during', 'server', 'host', 'code', 'reason', 'timeout']);

test('every error type is an RFC 9209 type with a sane status, title and client-safe explanation', () => {
  const entries = Object.entries(ERROR_TYPES);
  assert.ok(entries.length >= 22);
  for (const [type, info] of entries) {
    assert.ok(RFC_9209_TYPES.has(type), `${type} is not a registered RFC 9209 type`);
    assert.match(type, /^[a-z][a-z_]*$/, `${type} must be an sf-token`);
    assert.ok(Number.isInteger(info.status) && info.status >= 400 && info.status <= 599, `${type} status`);
    assert.ok(info.title.trim().length > 0, `${type} title`);
    assert.ok(info.explanation.trim().length > 0, `${type} explanation`);
    // Explanations go to any client: no addresses, ports or codes.
    assert.doesNotMatch(info.explanation, /\d|_|:/, `${type} explanation looks internal`);
    if ('retryAfterSeconds' in info) {
      assert.equal(info.status, 503, `${type} has Retry-After but is not a 503`);
      assert.ok(info.retryAfterSeconds > 0);
    }
  }
  // DESIGN.md's statuses for the types it names.
  const expected: Partial<Record<ErrorType, number>> = {
    dns_error: 502,
    dns_timeout: 504,
    connection_refused: 502,
    destination_not_found: 502,
    destination_ip_unroutable: 502,
    connection_timeout: 504,
    connection_terminated: 502,
    connection_read_timeout: 504,
    connection_write_timeout: 504,
    tls_protocol_error: 502,
    tls_certificate_error: 502,
    tls_alert_received: 502,
    http_protocol_error: 502,
    http_response_header_section_size: 502,
    destination_unavailable: 503,
    connection_limit_reached: 503,
    proxy_loop_detected: 508,
    proxy_configuration_error: 500,
    proxy_internal_error: 500,
    http_request_error: 400,
  };
  for (const [type, status] of Object.entries(expected)) {
    assert.equal(ERROR_TYPES[type as ErrorType].status, status, type);
  }
  assert.equal(ERROR_TYPES.connection_limit_reached.retryAfterSeconds, 1);
  assert.equal(ERROR_TYPES.destination_unavailable.retryAfterSeconds, 5);
});

test('the root causes are exactly the fixed vocabulary, each with a one-line hint', () => {
  assert.deepEqual(Object.keys(ROOT_CAUSES), DESIGN_ROOT_CAUSES);
  for (const [cause, info] of Object.entries(ROOT_CAUSES)) {
    assert.ok(info.hint.trim().length > 20, `${cause} hint is too thin`);
    assert.ok(info.hint.length <= 240, `${cause} hint is longer than one line`);
    assert.doesNotMatch(info.hint, /\n/, `${cause} hint spans lines`);
  }
});

test('every classification row maps to a known type, cause, status, phase and template', () => {
  assert.ok(CLASSIFY_RULES.length > 50);
  for (const rule of CLASSIFY_RULES) {
    const label = `${rule.code} ${JSON.stringify(rule.when ?? {})}`;
    assert.ok(Object.hasOwn(ERROR_TYPES, rule.type), `${label}: unknown type ${rule.type}`);
    assert.ok(Object.hasOwn(ROOT_CAUSES, rule.cause), `${label}: unknown cause ${rule.cause}`);
    if (rule.status !== undefined) assert.ok(rule.status >= 400 && rule.status <= 599, `${label}: status`);
    if (rule.phase !== undefined) assert.ok(Object.hasOwn(PHASES, rule.phase), `${label}: phase`);
    for (const phase of rule.when?.phase ?? []) assert.ok(Object.hasOwn(PHASES, phase), `${label}: phase ${phase}`);
    for (const [, name] of rule.detail.matchAll(/\{(\w+)\}/g)) {
      assert.ok(PLACEHOLDERS.has(name!), `${label}: unknown placeholder {${name}}`);
    }
  }
});

test('every code in the table has an unconditional row, so a known code always classifies', () => {
  const codes = new Set(CLASSIFY_RULES.map((rule) => rule.code));
  for (const code of codes) {
    const rows = CLASSIFY_RULES.filter((rule) => rule.code === code);
    const last = rows.at(-1)!;
    assert.equal(last.when, undefined, `${code}: its last row must be the unconditional fallback`);
    assert.equal(rows.filter((rule) => rule.when === undefined).length, 1, `${code}: exactly one fallback`);
  }
});

test('every engine code and every reason pattern has rows', () => {
  for (const code of Object.keys(UPSTREAM_ERROR_CODES)) assert.ok(rulesFor(code).length > 0, code);
  for (const { code } of REASON_PATTERNS) assert.ok(rulesFor(code).length > 0, code);
});

/** A context and error that satisfy exactly the conditions of a row (and none of the earlier refinements). */
function sampleFor(rule: ClassifyRule): { err: Error & { code: string }; ctx: ClassifyContext } {
  const when = rule.when ?? {};
  const ctx: ClassifyContext = {
    phase: when.phase?.[0] ?? 'internal',
    upstream: 'api',
    server: '127.0.0.1:5001',
    attempt: 1,
    reused: when.reused ?? false,
  };
  if (when.serverSpeaksTls !== undefined) ctx.serverSpeaksTls = when.serverSpeaksTls;
  if (when.unixPath !== undefined) ctx.unixPath = when.unixPath;
  if (when.tlsBytes) ctx.firstBytes = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]);
  const code = rule.code.replaceAll('*', 'X');
  const err = Object.assign(new Error('sample failure'), { code, syscall: when.syscall ?? 'connect' });
  return { err, ctx };
}

test('every row is reachable: its own conditions select it and classify() returns it', () => {
  for (const rule of CLASSIFY_RULES) {
    const { err, ctx } = sampleFor(rule);
    const label = `${rule.code} ${JSON.stringify(rule.when ?? {})}`;
    const chosen = matchRule(err, ctx);
    assert.equal(chosen, rule, `${label} is shadowed by an earlier row`);
    const failure = classify(err, ctx);
    assert.equal(failure.type, rule.type, label);
    assert.equal(failure.cause, rule.cause, label);
    assert.equal(failure.status, rule.status ?? ERROR_TYPES[rule.type].status, label);
    assert.equal(failure.hint, ROOT_CAUSES[rule.cause].hint, label);
    assert.equal(failure.code, err.code, label);
    assert.doesNotMatch(failure.detail, /[{}]/, `${label}: unfilled placeholder in "${failure.detail}"`);
    assert.ok(failure.detail.length > 10, label);
  }
});
