/**
 * The etcd v3 client as Gatewise uses it (npm `etcd3`, over gRPC): short deadlines, no hidden
 * retries or circuit breakers (the config source owns reconnection and its back-off), the keys of a
 * prefix, and errors turned into a sentence that names the endpoint and what to do.
 */
import { createHash } from 'node:crypto';
import { Etcd3, GRPCGenericError, type IOptions, isRecoverableError } from 'etcd3';
import type { EtcdConfig } from '../config/index.js';
import { GatewayError } from '../errors.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

const noEvent = () => ({ dispose() {} });

/**
 * A policy that calls through once per endpoint: a call that fails on one endpoint with a
 * recoverable error (unavailable, deadline) is tried on the next, then fails. The client's default
 * opens a 5 s circuit after three failures, which would hide etcd's return for seconds after it
 * came back; waiting is the config source's job, with its own back-off.
 */
function oncePerEndpoint(endpoints: number): Policy {
  const policy = {
    onSuccess: noEvent,
    onFailure: noEvent,
    async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
      const signal = new AbortController().signal;
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn({ signal });
        } catch (error) {
          if (attempt >= endpoints || !isRecoverableError(error as Error)) throw error;
        }
      }
    },
  };
  return policy as unknown as Policy;
}

const passThrough = (): Policy => oncePerEndpoint(1);

/** The watch stream's own reconnect delay; the source cancels a disconnected watcher anyway. */
const WATCH_BACKOFF: Backoff = {
  duration: 250,
  next() {
    return WATCH_BACKOFF;
  },
} as Backoff;

/** A client for the configured endpoints; every unary call has a deadline of `dial_timeout`. */
export function createEtcdClient(etcd: Pick<EtcdConfig, 'endpoints' | 'dial_timeout'>): Etcd3 {
  const timeoutMs = etcd.dial_timeout;
  return new Etcd3({
    hosts: [...etcd.endpoints],
    dialTimeout: timeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    // Keepalive pings notice a silently dead etcd (host gone, network cut) on an idle watch stream;
    // 10 s stays above etcd's --grpc-keepalive-min-time (5 s), below which it answers too_many_pings.
    grpcOptions: { 'grpc.keepalive_time_ms': 10000, 'grpc.keepalive_timeout_ms': Math.max(1000, timeoutMs) },
    faultHandling: {
      host: passThrough,
      global: oncePerEndpoint(etcd.endpoints.length),
      watchBackoff: WATCH_BACKOFF,
    },
  });
}

/** `promise`, or a DEADLINE_EXCEEDED error after `ms` (the timer does not hold the process open). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (DEADLINE_EXCEEDED)`)), ms);
    timer.unref();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Keys under a prefix: `<prefix>/config`, `<prefix>/nodes/<node_id>`. */
export function clusterKeys(prefix: string): { config: string; nodes: string; node(id: string): string } {
  const base = prefix === '/' ? '' : prefix;
  return { config: `${base}/config`, nodes: `${base}/nodes/`, node: (id) => `${base}/nodes/${id}` };
}

/** The short hash that names a version of the shared document in records and status tables. */
export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** etcd could not be reached or did not answer as etcd: `endpoints` named, with what to do. */
export class EtcdUnavailableError extends GatewayError {
  constructor(
    readonly endpoints: readonly string[],
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('GW_ETCD_UNAVAILABLE', `cannot reach etcd at ${endpoints.join(', ')}: ${reason}`, options);
  }
}

/** The last error text of gRPC's "No connection established. Last error: ..." messages. */
function lastError(message: string): string {
  const match = /Last error: (.*?)(?:\. Resolution note:.*)?$/s.exec(message);
  return (match?.[1] ?? message).replace(/^Error: /, '').trim();
}

/**
 * What went wrong, in words, with the likely fix: the errors of a wrong address (refused, not
 * resolving, not etcd at all), a silent network, and a slow etcd read differently.
 */
export function describeEtcdError(error: unknown): string {
  if (error instanceof EtcdUnavailableError) return error.reason;
  const message = error instanceof Error ? error.message : String(error);
  const last = lastError(message);
  if (/ECONNREFUSED/.test(last))
    return `connection refused (${last.replace(/^connect /, '')}): is etcd running there? Check the endpoint (cluster.etcd.endpoints)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(last)) return `the host name does not resolve (${last}): check cluster.etcd.endpoints`;
  if (/EHOSTUNREACH|ENETUNREACH/.test(last)) return `no route to the host (${last}): check the address and network`;
  if (/Protocol error|UNIMPLEMENTED|HTTP status code/i.test(message))
    return `the endpoint answered but is not an etcd v3 client URL (${last}): use etcd's client URL (port 2379, not the peer port 2380), with https:// only when etcd serves TLS`;
  if (/DEADLINE_EXCEEDED|Deadline exceeded/i.test(message))
    return 'no answer within cluster.etcd.dial_timeout: etcd is down, overloaded or a firewall drops the traffic';
  if (/UNAVAILABLE/.test(message)) return `etcd is unavailable (${last})`;
  return last;
}

/**
 * A failed etcd call as Gatewise reports it: any gRPC-level failure (refused, unreachable, deadline,
 * not etcd at all) becomes an EtcdUnavailableError; etcd's own answers (lease gone, permission
 * denied) stay what they are.
 */
export function toEtcdError(error: unknown, endpoints: readonly string[]): Error {
  if (error instanceof EtcdUnavailableError) return error;
  if (error instanceof GRPCGenericError)
    return new EtcdUnavailableError(endpoints, describeEtcdError(error), { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}
