/**
 * Envoy (and Istio) access logs and local replies. Read from Envoy's documentation of
 * %RESPONSE_FLAGS% (UH, UF, UO, NR, URX, NC, DT, DC, LH, UT, LR, UR, UC, DI, FI, RL, UAEX, RLSE, IH,
 * SI, DPE, UPE, UMSDR, OM, DF), the default format
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 *   %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 *   "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
 * Istio's, which adds %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
 * "%UPSTREAM_TRANSPORT_FAILURE_REASON%" after the flags, JSON access logs with the same operators,
 * and the local reply "upstream connect error or disconnect/reset before headers. reset reason: ...".
 * Reset reasons are Http::Utility::resetReasonToString()'s words.
 */
import { errnoCode, errnoCodeIn, errnoText } from './errno.js';
import { fromIso } from './time.js';
import { tlsCodeOf, tlsReasons } from './tls.js';
import type { Finding, LineInput, Recogniser } from './types.js';

type Body = Omit<Finding, 'source' | 'time' | 'upstream'>;

/** What a flag (or reset reason) means, most decisive first. */
const FLAGS: readonly (readonly [string, (detail: string) => Body])[] = [
  [
    'UH',
    () => ({
      code: 'GW_NO_SERVER',
      phase: 'select',
      why: 'no healthy host in the upstream cluster: every endpoint failed health checks or was ejected, or the cluster has none',
      also: [{ cause: 'wrong_upstream_address', why: 'a cluster whose endpoints never resolved has no host' }],
      summary: 'no healthy upstream (503, UH)',
      confidence: 'high',
    }),
  ],
  ['UF', connectFailure],
  [
    'UO',
    () => ({
      error: 'connection_limit_reached',
      cause: 'overload_or_exhaustion',
      phase: 'queue',
      why: "the cluster's circuit breaker limits (max_connections, max_pending_requests, max_requests) overflowed",
      also: [{ cause: 'slow_backend', why: 'slow answers keep requests in flight and fill the limits' }],
      checks: [
        {
          what: 'Which circuit breaker overflowed?',
          command: "curl -s localhost:9901/stats | grep -E 'upstream_rq_pending_overflow|upstream_cx_overflow'",
        },
      ],
      summary: 'upstream overflow: circuit breaker open (503, UO)',
      confidence: 'high',
    }),
  ],
  [
    'NR',
    () => ({
      code: 'GW_NO_ROUTE',
      phase: 'route',
      why: 'no route matched the request (host or path), or no filter chain matched the connection',
      summary: 'no route configured (404, NR)',
      confidence: 'high',
    }),
  ],
  [
    'NC',
    () => ({
      error: 'proxy_configuration_error',
      cause: 'wrong_upstream_address',
      phase: 'route',
      why: 'the route names a cluster that does not exist (yet): a typo or a cluster not pushed by the control plane',
      summary: 'upstream cluster not found (NC)',
      confidence: 'high',
    }),
  ],
  [
    'UT',
    () => ({
      code: 'GW_READ_TIMEOUT',
      phase: 'read_head',
      why: 'the upstream did not answer within the route timeout (default 15s) or per-try timeout',
      also: [{ cause: 'overload_or_exhaustion', why: 'a saturated backend answers late' }],
      summary: 'upstream request timeout (504, UT)',
      confidence: 'high',
    }),
  ],
  ['UC', () => terminated('UC', 'upstream connection termination')],
  [
    'UR',
    () => ({
      code: 'ECONNRESET',
      phase: 'read_head',
      why: 'the upstream reset the stream (RST_STREAM or TCP reset) before the response',
      also: [
        { cause: 'protocol_error', why: 'an HTTP/2 upstream resets streams it finds malformed' },
        { cause: 'overload_or_exhaustion', why: 'an overloaded upstream refuses streams' },
      ],
      summary: 'upstream remote reset (503, UR)',
      confidence: 'medium',
    }),
  ],
  [
    'LR',
    () => ({
      error: 'connection_terminated',
      cause: 'other',
      phase: 'read_head',
      why: 'Envoy reset the upstream stream itself (a local codec reset), e.g. after a protocol violation it detected',
      also: [{ cause: 'protocol_error', why: 'an invalid response makes Envoy reset locally' }],
      summary: 'connection local reset (503, LR)',
      confidence: 'low',
    }),
  ],
  [
    'UPE',
    () => ({
      code: 'GW_BAD_RESPONSE',
      phase: 'read_head',
      why: 'the upstream response was not valid HTTP',
      also: [{ cause: 'tls_mismatch', why: 'TLS bytes on a plain-HTTP cluster are not HTTP either' }],
      summary: 'upstream protocol error (502, UPE)',
      confidence: 'high',
    }),
  ],
  [
    'DF',
    () => ({
      code: 'ENOTFOUND',
      phase: 'dns',
      why: 'the upstream host name did not resolve (STRICT_DNS/LOGICAL_DNS cluster or dynamic forward proxy)',
      summary: 'DNS resolution failure (503, DF)',
      confidence: 'high',
    }),
  ],
  [
    'UMSDR',
    () => ({
      code: 'GW_READ_TIMEOUT',
      phase: 'read_body',
      why: 'the upstream stream reached its max_stream_duration',
      summary: 'upstream max stream duration reached (UMSDR)',
      confidence: 'high',
    }),
  ],
  [
    'OM',
    () => ({
      error: 'connection_limit_reached',
      cause: 'overload_or_exhaustion',
      why: "Envoy's overload manager shed the request (memory or connection pressure on the proxy)",
      summary: 'terminated by the overload manager (OM)',
      confidence: 'high',
    }),
  ],
  [
    'LH',
    () => ({
      error: 'destination_unavailable',
      cause: 'backend_down',
      why: 'the local service failed its health check',
      summary: 'local service failed health check (503, LH)',
      confidence: 'high',
    }),
  ],
  [
    'SI',
    () => ({
      code: 'GW_READ_TIMEOUT',
      phase: 'read_head',
      why: 'no data on the stream for stream_idle_timeout (default 5 min): a stuck backend or client',
      summary: 'stream idle timeout (408, SI)',
      confidence: 'medium',
    }),
  ],
  [
    'DT',
    () => ({
      error: 'connection_read_timeout',
      cause: 'slow_backend',
      why: 'the request or connection exceeded max_connection_duration or max_downstream_connection_duration',
      summary: 'max connection duration reached (DT)',
      confidence: 'medium',
    }),
  ],
  [
    'UAEX',
    () => ({
      error: 'http_request_denied',
      cause: 'other',
      why: 'the external authorization service denied the request',
      summary: 'denied by external authorization (UAEX)',
      confidence: 'high',
    }),
  ],
  [
    'DPE',
    () => ({
      error: 'http_request_error',
      cause: 'protocol_error',
      why: 'the client sent invalid HTTP; nothing was forwarded',
      summary: 'downstream protocol error (DPE)',
      confidence: 'high',
    }),
  ],
  [
    'IH',
    () => ({
      error: 'http_request_error',
      cause: 'protocol_error',
      why: 'the request set an invalid value for a strictly checked x-envoy header',
      summary: 'invalid header rejected (400, IH)',
      confidence: 'high',
    }),
  ],
  [
    'RLSE',
    () => ({
      error: 'proxy_internal_error',
      cause: 'other',
      why: 'the rate limit service failed',
      summary: 'rate limit service error (RLSE)',
      confidence: 'high',
    }),
  ],
  [
    'URX',
    (detail) => ({
      ...connectFailure(detail),
      why: 'every retry (or TCP connect attempt) failed and the retry limit was reached',
      summary: 'upstream retry limit exceeded (URX)',
      confidence: 'medium',
    }),
  ],
];

/** Flags that are not failures of the chain to the upstream. */
const NOT_FAILURES: Readonly<Record<string, string>> = {
  DC: 'the downstream client closed the connection',
  RL: 'the request was rate limited locally (429) by policy',
  FI: 'fault injection aborted the request on purpose',
  DI: 'fault injection delayed the request on purpose',
};

function terminated(flag: string, words: string): Body {
  return {
    code: 'GW_UPSTREAM_CLOSED',
    phase: 'read_head',
    cause: 'keepalive_mismatch',
    why: "Envoy pools upstream connections: a backend that closes idle connections sooner than the cluster's idle_timeout makes Envoy send on a closed one",
    also: [
      { cause: 'crash_or_oom', why: 'the backend may have crashed or been killed mid-request' },
      { cause: 'tls_mismatch', why: 'a TLS backend on a plain-HTTP cluster closes without an answer' },
    ],
    summary: `${words} (503, ${flag})`,
    confidence: 'medium',
  };
}

/** UF with the transport failure reason when the line gives one. */
function connectFailure(detail: string): Body {
  // Envoy writes '_' for spaces inside %RESPONSE_CODE_DETAILS%: "delayed_connect_error:_111".
  const words = detail.replaceAll('_', ' ');
  const errno = /connect error: (\d+)/.exec(words);
  const code = errno
    ? errnoCode(Number(errno[1]))
    : /tls|ssl|certificate/i.test(detail)
      ? tlsCodeOf(detail)
      : /connection[ _]timeout/i.test(detail)
        ? 'GW_CONNECT_TIMEOUT'
        : errnoCodeIn(words);
  if (code === undefined) {
    return {
      error: 'connection_refused',
      cause: 'backend_down',
      phase: 'connect',
      why: 'Envoy could not connect to the upstream host (refused, timed out or TLS failed); the flag alone does not say which',
      also: [
        { cause: 'firewall_or_network', why: 'a connect timeout is a UF too' },
        { cause: 'tls_config', why: 'a failed upstream TLS handshake is a UF too' },
      ],
      summary: 'upstream connection failure (503, UF)',
      confidence: 'medium',
    };
  }
  const tls = /tls|ssl|certificate/i.test(detail);
  const reason = errno
    ? `${(errnoText(Number(errno[1])) ?? `errno ${errno[1]}`).toLowerCase()} (${errno[1]})`
    : tls
      ? (tlsReasons(detail)[0] ?? 'TLS handshake failed')
      : words;
  return {
    code,
    phase: tls ? 'tls' : 'connect',
    why: `Envoy could not connect to the upstream host: ${reason}`,
    also: tls
      ? [{ cause: 'tls_mismatch', why: 'the cluster may use TLS towards a plain port, or the reverse' }]
      : [{ cause: 'wrong_upstream_address', why: 'the endpoint may be stale or listen on another port' }],
    summary: `upstream connection failure: ${reason} (503, UF)`,
    confidence: 'high',
  };
}

/** Reset reasons of the local reply, as flags. */
const RESET_REASONS: readonly (readonly [RegExp, string])[] = [
  [/connection timeout/, 'UF'],
  [/(?:local |remote )?connection failure/, 'UF'],
  [/connection termination/, 'UC'],
  [/remote (?:refused stream )?reset/, 'UR'],
  [/local (?:refused stream )?reset/, 'LR'],
  [/overflow/, 'UO'],
  [/protocol error/, 'UPE'],
];

function decide(flags: readonly string[], detail: string): Body | undefined {
  for (const [flag, make] of FLAGS) if (flags.includes(flag)) return make(detail);
  for (const flag of flags) {
    const words = NOT_FAILURES[flag];
    if (words !== undefined)
      return { error: null, cause: 'other', why: words, summary: `${words} (${flag})`, confidence: 'high' };
  }
  return undefined;
}

function fromStatus(status: number, flags: string): Body {
  const failed = status >= 500;
  return {
    error: null,
    cause: 'other',
    why: failed
      ? `no response flag: the upstream itself answered ${status}`
      : `the request was answered (${status}${flags !== '-' ? `, ${flags}` : ''})`,
    summary: failed ? `the upstream answered ${status}` : `not a failure (${status})`,
    confidence: failed ? 'medium' : 'high',
  };
}

/** Everything between quotes, in order. */
function quoted(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}

const TEXT = /^\[(\d{4}-\d{2}-\d{2}T[^\]]+)\] "([^"]*)" (\d{1,3}) (\S+) (\S+) (.*)$/;

function recogniseText(line: string): Finding | undefined {
  const m = TEXT.exec(line);
  if (!m) return undefined;
  const status = Number(m[3]);
  const flags = m[4]!;
  const next = m[5]!;
  const rest = `${next} ${m[6]!}`;
  // Istio's format puts %RESPONSE_CODE_DETAILS% where the default has %BYTES_RECEIVED%.
  const istio = !/^\d+$/.test(next);
  const fields = quoted(rest);
  const upstream = istio ? fields[5] : fields[4];
  const transport = istio ? (fields[0] ?? '') : '';
  // The transport failure reason says the most in the fewest words; the details say it otherwise.
  const detail = [transport, istio ? next : ''].find((s) => s !== '' && s !== '-') ?? '';
  const base = {
    source: 'envoy' as const,
    ...(fromIso(m[1]!) ? { time: m[1]! } : {}),
    ...(upstream !== undefined && upstream !== '-' ? { upstream } : {}),
  };
  const body = decide(flags === '-' ? [] : flags.split(','), detail) ?? fromStatus(status, flags);
  return { ...base, ...body };
}

function recogniseJson(json: Readonly<Record<string, unknown>>): Finding | undefined {
  if (!('response_flags' in json) && !('response_code_details' in json)) return undefined;
  const flags = String(json['response_flags'] ?? '-');
  const status = Number(json['response_code'] ?? 0);
  const detail =
    [json['upstream_transport_failure_reason'], json['response_code_details']].find(
      (v): v is string => typeof v === 'string' && v !== '' && v !== '-',
    ) ?? '';
  const upstream = typeof json['upstream_host'] === 'string' ? json['upstream_host'] : undefined;
  const time = fromIso(json['start_time']);
  const body = decide(flags === '-' || flags === '' ? [] : flags.split(','), detail) ?? fromStatus(status, flags);
  return {
    source: 'envoy',
    ...(time !== undefined ? { time } : {}),
    ...(upstream !== undefined && upstream !== '-' ? { upstream } : {}),
    ...body,
  };
}

const LOCAL_REPLY =
  /upstream connect error or disconnect\/reset before headers\.(?: (?:retried and the latest )?reset reason: ([^,"\]]+)(?:, transport failure reason: ([^"\]]*))?)?/;

function recogniseReply(line: string): Finding | undefined {
  const reply = LOCAL_REPLY.exec(line);
  if (reply) {
    const reason = (reply[1] ?? '').replace(/[\s/.]+$/, '');
    const transport = (reply[2] ?? '').replace(/[\s/.]+$/, '');
    const flag = RESET_REASONS.find(([pattern]) => pattern.test(reason))?.[1];
    const body =
      flag === undefined
        ? connectFailure(transport)
        : (decide([flag], transport || reason) ?? connectFailure(transport));
    return {
      source: 'envoy',
      ...body,
      summary: `${body.summary.replace(/ \((\d{3}, )?[A-Z]+\)$/, '')} (Envoy local reply)`,
    };
  }
  if (/\bno healthy upstream\b/.test(line)) return { source: 'envoy', ...decide(['UH'], '')! };
  if (/\bupstream request timeout\b/.test(line)) return { source: 'envoy', ...decide(['UT'], '')! };
  return undefined;
}

function recognise(input: LineInput): Finding | undefined {
  if (input.json !== undefined) return recogniseJson(input.json) ?? recogniseReply(input.line);
  return recogniseText(input.line) ?? recogniseReply(input.line);
}

export const envoy: Recogniser = { source: 'envoy', recognise };
