/**
 * What an access line's statuses and timings say when the line carries no error text: shared by the
 * nginx, ingress-nginx, Traefik, Caddy and HAProxy access formats. Access logs record that a 502
 * happened, rarely why, so these explanations are of low or medium confidence and point to the
 * proxy's error log at the same second.
 */
import type { Finding, Source } from './types.js';

export interface AccessFacts {
  source: Source;
  status: number;
  /** Statuses of each upstream attempt ("502, 200" in nginx), when logged. */
  upstreamStatuses?: readonly string[];
  /** Seconds nginx spent connecting to / reading the head from the last upstream, when logged ("-" = never). */
  connectSeconds?: string;
  headerSeconds?: string;
  responseSeconds?: string;
  time?: string;
  upstream?: string;
  /** The line says whether the backend sent a response (Traefik's OriginStatus); undefined when it does not. */
  backendAnswered?: boolean;
  /** Where the details are: "the nginx error log", "Traefik's debug log". */
  errorLog: string;
}

type Partial502 = Omit<Finding, 'source' | 'time' | 'upstream'>;

function seconds(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text === '-') return undefined;
  const last = text.split(/\s*[,:]\s*/).pop() ?? '';
  const value = Number(last);
  return Number.isFinite(value) ? value : undefined;
}

function last(list: readonly string[] | undefined): string | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return list[list.length - 1];
}

/** The explanation of one access record by its statuses. */
export function explainAccess(facts: AccessFacts): Finding {
  const base: Pick<Finding, 'source' | 'time' | 'upstream'> = {
    source: facts.source,
    ...(facts.time !== undefined ? { time: facts.time } : {}),
    ...(facts.upstream !== undefined && facts.upstream !== '-' ? { upstream: facts.upstream } : {}),
  };
  return { ...base, ...decide(facts) };
}

function decide(facts: AccessFacts): Partial502 {
  const { status } = facts;
  const attempts = facts.upstreamStatuses?.filter((s) => s !== '' && s !== '-') ?? [];
  const retried = attempts.length > 1 ? ` after ${attempts.length} upstream attempts (${attempts.join(', ')})` : '';
  if (status === 499 || status === 460) {
    return {
      error: null,
      cause: 'other',
      why: 'the client closed the connection before the answer; nothing failed upstream',
      summary: `client closed the request (${status})`,
      confidence: 'high',
    };
  }
  if (status < 500 || status === 501 || status === 505) {
    const recovered = attempts.some((s) => /^5\d\d$/.test(s));
    return {
      error: null,
      cause: 'other',
      why: recovered
        ? `an earlier attempt failed (${attempts.join(', ')}) but a retry answered`
        : `the request was answered (${status})`,
      summary: recovered ? `answered ${status} after a failed attempt${retried}` : `not a failure (${status})`,
      confidence: 'high',
    };
  }
  const header = facts.headerSeconds;
  const lastStatus = last(attempts);
  // nginx sets $upstream_header_time only once a response head arrived: a 5xx with a header time came
  // from the backend itself, not from the proxy.
  const headerArrived =
    header !== undefined && header !== '-' && seconds(header) !== undefined && lastStatus === String(status);
  if (facts.backendAnswered === true || headerArrived) {
    return {
      error: null,
      cause: 'other',
      why: `the backend itself answered ${status}${headerArrived ? ` (a response head arrived after ${header}s)` : ''}; the proxy only passed it on`,
      summary: `the backend answered ${status}`,
      confidence: 'medium',
      checks: [{ what: "Read the backend's own logs for this request" }],
    };
  }
  const pointer = { what: `Read ${facts.errorLog} at the same second for the exact failure` };
  if (status !== 502 && status !== 503 && status !== 504) {
    // Proxies generate 502, 503 and 504; another 5xx that an upstream attempt logged is the backend's own.
    const fromBackend = lastStatus === String(status);
    return {
      error: fromBackend ? null : 'proxy_internal_error',
      cause: 'other',
      why: fromBackend ? `the backend itself answered ${status}` : `the proxy answered ${status} itself`,
      summary: fromBackend ? `the backend answered ${status}` : `server error (${status})`,
      confidence: fromBackend ? 'medium' : 'low',
      checks: [fromBackend ? { what: "Read the backend's own logs for this request" } : pointer],
    };
  }
  const connectFailed = facts.connectSeconds === '-' || (seconds(facts.responseSeconds) ?? 1) <= 0.001;
  if (status === 504) {
    const connect = facts.connectSeconds === '-';
    return {
      error: connect ? 'connection_timeout' : 'connection_read_timeout',
      cause: connect ? 'firewall_or_network' : 'slow_backend',
      why: connect
        ? 'the proxy never got a TCP connection (no connect time logged) before its timeout'
        : `the backend did not answer within the proxy's timeout${
            facts.responseSeconds ? ` (upstream time ${facts.responseSeconds}s)` : ''
          }`,
      also: [
        connect
          ? { cause: 'backend_down', why: 'the backend host may be down' }
          : { cause: 'firewall_or_network', why: 'a connect timeout gives 504 too' },
        { cause: 'overload_or_exhaustion', why: 'a saturated backend answers late' },
      ],
      summary: `gateway timeout (504)${retried}`,
      confidence: 'medium',
      checks: [pointer],
    };
  }
  if (status === 503) {
    return {
      error: 'destination_unavailable',
      cause: 'backend_down',
      why:
        attempts.length === 0
          ? 'no upstream attempt was logged: no server was available (all marked down, or no endpoints)'
          : 'the upstream answered or was marked unavailable',
      also: [
        { cause: 'overload_or_exhaustion', why: 'a rate or connection limit also answers 503' },
        { cause: 'wrong_upstream_address', why: 'a service with no matching endpoints has no server to pick' },
      ],
      summary: `service unavailable (503)${retried}`,
      confidence: 'low',
      checks: [pointer],
    };
  }
  if (connectFailed && status === 502) {
    return {
      error: 'connection_refused',
      cause: 'backend_down',
      why: 'the attempt ended at once without a connection (no connect time, or 0 s upstream time): most often refused',
      also: [
        { cause: 'wrong_upstream_address', why: 'the backend may listen elsewhere' },
        { cause: 'tls_mismatch', why: 'a failed TLS handshake also ends at once' },
      ],
      summary: `bad gateway (502) before any upstream connection${retried}`,
      confidence: 'low',
      checks: [pointer],
    };
  }
  return {
    error: 'connection_terminated',
    cause: 'crash_or_oom',
    why: 'the proxy reached the upstream but got no valid response; an access line cannot say more',
    also: [
      { cause: 'backend_down', why: 'a refused connection also gives 502' },
      { cause: 'keepalive_mismatch', why: 'a reused connection closed by the backend gives 502' },
      { cause: 'protocol_error', why: 'an invalid response gives 502' },
    ],
    summary: `bad gateway (502)${retried}`,
    confidence: 'low',
    checks: [pointer],
  };
}
