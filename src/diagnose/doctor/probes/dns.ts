/**
 * Name resolution as the gateway does it (getaddrinfo through dns.lookup, which reads /etc/hosts),
 * plus direct DNS queries for TTLs and for the resolvers nginx's `resolver` names.
 */
import { promises as dns } from 'node:dns';
import { performance } from 'node:perf_hooks';
import { classify } from '../../classify.js';
import { UpstreamError } from '../../errors.js';
import type { Failure } from '../../failure.js';

export interface LookupResult {
  ok: boolean;
  ms: number;
  addresses: { address: string; family: number }[];
  failure?: Failure;
}

export interface TtlResult {
  /** Lowest TTL of the A/AAAA answers, seconds; undefined when DNS had no answer (e.g. /etc/hosts only). */
  ttlS?: number;
  addresses: string[];
  code?: string;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UpstreamError('GW_DNS_TIMEOUT', `resolving ${host} took longer than ${timeoutMs} ms`, { timeoutMs }),
        ),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function lookupProbe(host: string, timeoutMs: number, upstream: string): Promise<LookupResult> {
  const started = performance.now();
  try {
    const addresses = await withTimeout(dns.lookup(host, { all: true, verbatim: true }), timeoutMs, host);
    return { ok: addresses.length > 0, ms: performance.now() - started, addresses };
  } catch (error) {
    const failure = classify(error, { phase: 'dns', upstream, server: host, attempt: 0, reused: false });
    return { ok: false, ms: performance.now() - started, addresses: [], failure };
  }
}

/** A and AAAA records with their TTLs, from the system's DNS servers or from `server` when given. */
export async function ttlProbe(host: string, timeoutMs: number, server?: string): Promise<TtlResult> {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  if (server !== undefined) {
    try {
      resolver.setServers([server]);
    } catch (error) {
      return { addresses: [], code: (error as NodeJS.ErrnoException).code ?? 'EINVAL' };
    }
  }
  const answers = await Promise.allSettled([
    withTimeout(resolver.resolve4(host, { ttl: true }), timeoutMs + 200, host),
    withTimeout(resolver.resolve6(host, { ttl: true }), timeoutMs + 200, host),
  ]);
  resolver.cancel();
  const records = answers.flatMap((answer) => (answer.status === 'fulfilled' ? answer.value : []));
  if (records.length === 0) {
    const rejected = answers.find((answer) => answer.status === 'rejected');
    const code = rejected ? ((rejected.reason as NodeJS.ErrnoException).code ?? 'ENODATA') : 'ENODATA';
    return { addresses: [], code };
  }
  return { ttlS: Math.min(...records.map((record) => record.ttl)), addresses: records.map((record) => record.address) };
}
