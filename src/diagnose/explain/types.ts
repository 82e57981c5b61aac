import type { Phase } from '../failure.js';
import type { ErrorType, RootCause } from '../taxonomy.js';

/** The log formats `explain` reads; 'unknown' when no recogniser knows the line. */
export const SOURCES = [
  'nginx_error',
  'nginx_access',
  'ingress_nginx',
  'envoy',
  'haproxy',
  'traefik',
  'caddy',
  'aws_alb',
  'node',
  'gatewise',
  'unknown',
] as const;

export type Source = (typeof SOURCES)[number];

export type Confidence = 'high' | 'medium' | 'low';

export interface RankedCause {
  cause: RootCause;
  /** Why this cause fits this line, in words that name what the line showed. */
  why: string;
}

export interface Check {
  /** What to look at and what it tells. */
  what: string;
  /** A command that shows it, when one helps. */
  command?: string;
}

/** What one log line says about a failure: the wire error type, the ranked root causes and what to check. */
export interface Explanation {
  source: Source;
  /** The RFC 9209 error type of the failure; null when the line is not a failure (a 200, a notice, a client abort). */
  error: ErrorType | null;
  /** Ranked, most likely first; never empty. */
  causes: RankedCause[];
  summary: string;
  checks: Check[];
  confidence: Confidence;
  /** ISO 8601; without an offset when the line carries local time without a zone. */
  time?: string;
  /** The upstream address or name, when the line carries one. */
  upstream?: string;
  /** Gatewise's phase name ('connect', 'tls', 'send', 'read_head', 'read_body', 'dns', ...). */
  phase?: string;
  line: string;
}

/** One line as the recognisers see it: the text, and its JSON value when it is a JSON object. */
export interface LineInput {
  readonly line: string;
  readonly json: Readonly<Record<string, unknown>> | undefined;
}

/**
 * What a recogniser found on a line, before the shared table decides. A finding either names a code
 * (an errno, OpenSSL or Gatewise engine code) that Gatewise's own classification table turns into an
 * error type and cause, or states the error and cause itself when no code applies.
 */
export interface Finding {
  source: Source;
  /** Code for the classification table, e.g. 'ECONNREFUSED', 'GW_READ_TIMEOUT', 'ERR_SSL_WRONG_VERSION_NUMBER'. */
  code?: string;
  phase?: Phase;
  unixPath?: boolean;
  /** The upstream's first bytes were a TLS record (a TLS server answering plain HTTP). */
  tlsBytes?: boolean;
  /** The failing system call, when the line names one ('connect', 'bind'). */
  syscall?: string;
  /** Set when no code applies, or to override what the table says for this format. */
  error?: ErrorType | null;
  cause?: RootCause;
  /** Why the first cause fits this line. */
  why: string;
  /** Further causes, most likely first. */
  also?: RankedCause[];
  summary: string;
  confidence: Confidence;
  time?: string;
  upstream?: string;
  /** The address the checks' commands use, when `upstream` is a name (HAProxy's backend/server); '' = none. */
  target?: string;
  /** Checks specific to this line, listed before the cause's own checks. */
  checks?: Check[];
}

/** A recogniser for one log format: returns a finding, or undefined when the line is not in its format. */
export interface Recogniser {
  readonly source: Source;
  recognise(input: LineInput): Finding | undefined;
}
