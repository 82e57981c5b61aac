import { classify, type Phase } from '../../diagnose/index.js';

/** Where a probe was when it failed, for the classifier and for timeout messages. */
export type ProbeStage = 'connect' | 'tls' | 'read_head' | 'read_body';

const WAITING_FOR: Record<ProbeStage, string> = {
  connect: 'while connecting',
  tls: 'during the TLS handshake',
  read_head: 'waiting for the response head',
  read_body: 'reading the response body',
};

/**
 * A probe error worded by the one classifier, so a health check and a failed request that hit the
 * same fault say the same thing ("connect() to 127.0.0.1:5001 failed (ECONNREFUSED: connection
 * refused) while connecting to upstream").
 */
export function errorDetail(
  error: unknown,
  stage: ProbeStage,
  upstream: string,
  address: string,
  unix: boolean,
): string {
  const phase: Phase = stage;
  return classify(error, { phase, upstream, server: address, attempt: 0, reused: false, unixPath: unix }).detail;
}

export function timeoutDetail(timeoutMs: number, stage: ProbeStage): string {
  return `timed out after ${timeoutMs} ms ${WAITING_FOR[stage]}`;
}

/** `host:port` with an IPv6 literal in brackets (RFC 3986 §3.2.2), or `unix:/path`. */
export function addressOf(host: string, port: number, socketPath: string, unix: boolean): string {
  if (unix) return `unix:${socketPath}`;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
