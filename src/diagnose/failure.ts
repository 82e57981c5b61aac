import type { ErrorType, RootCause } from './taxonomy.js';

/**
 * Where in the request chain a failure happened. `op` and `during` word the phase the way nginx's
 * error log does ("connect() failed ... while connecting to upstream"), so engineers who know those
 * lines recognise ours.
 */
export const PHASES = {
  route: { op: 'routing', during: 'while routing the request' },
  select: { op: 'server selection', during: 'while selecting an upstream server' },
  queue: { op: 'queueing', during: 'while waiting for a free upstream slot' },
  dns: { op: 'getaddrinfo()', during: 'while resolving upstream' },
  connect: { op: 'connect()', during: 'while connecting to upstream' },
  tls: { op: 'SSL_do_handshake()', during: 'while SSL handshaking to upstream' },
  send: { op: 'send()', during: 'while sending request to upstream' },
  read_head: { op: 'recv()', during: 'while reading response header from upstream' },
  read_body: { op: 'recv()', during: 'while reading upstream' },
  internal: { op: 'processing', during: 'while processing the request' },
} as const satisfies Record<string, { op: string; during: string }>;

export type Phase = keyof typeof PHASES;

/** The one value every upstream failure becomes; everything downstream of the classifier consumes it. */
export interface Failure {
  type: ErrorType;
  status: number;
  cause: RootCause;
  hint: string;
  phase: Phase;
  /** errno, OpenSSL or engine code, e.g. 'ECONNREFUSED', 'GW_READ_TIMEOUT', 'DEPTH_ZERO_SELF_SIGNED_CERT'. */
  code: string;
  /** One line a human understands, worded like nginx's error log. Internal: shown to clients only when verbose. */
  detail: string;
  /** Upstream group name, server address and attempt number; '' / 0 when not applicable. */
  upstream: string;
  server: string;
  attempt: number;
  /** The failing upstream connection was a reused keep-alive connection. */
  reused: boolean;
  /** Milliseconds to connect and to the response head; -1 when not reached. */
  connectMs: number;
  headMs: number;
  /** Seconds for `Retry-After` when the failure knows better than the type's default. */
  retryAfterSeconds?: number;
}
