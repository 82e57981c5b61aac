import * as dns from 'node:dns';
import { isIP } from 'node:net';
import { UpstreamError } from '../diagnose/index.js';
import { GatewayError } from '../errors.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** The addresses of one host name at one moment. */
export interface ResolvedAddresses {
  host: string;
  addresses: ResolvedAddress[];
  /** The smallest TTL of the answer in ms; undefined when the source gives none (/etc/hosts, getaddrinfo). */
  ttlMs: number | undefined;
  /** Wall-clock time of the resolution (ms). */
  at: number;
}

/** One answer of a lookup; `ttl` in seconds, as DNS records carry it. */
export interface LookupAnswer {
  address: string;
  family: 4 | 6;
  ttl?: number;
}

export type HostLookup = (host: string) => Promise<LookupAnswer[]>;

/** A TTL never makes re-resolution more frequent than this: a zero TTL must not become a busy loop. */
export const MIN_TTL_REFRESH_MS = 1000;
/** A lookup that takes longer is abandoned for this round; getaddrinfo itself cannot be cancelled. */
export const MAX_LOOKUP_MS = 10_000;
/** c-ares: per-try timeout and tries, so an unreachable DNS server costs seconds, not the default ~75 s. */
export const RESOLVER_OPTIONS = { timeout: 2000, tries: 2 } as const;

/** A name that resolved without error to no address at all. Coded as the resolver's ENODATA, so the classifier reads it as dns_error. */
export class NoAddressError extends GatewayError {
  readonly hostname: string;

  constructor(hostname: string) {
    super('ENODATA', `host "${hostname}" resolved to no address`);
    this.hostname = hostname;
  }
}

/**
 * The default lookup: DNS A and AAAA queries with their TTLs; when those fail or answer nothing
 * (a name only in /etc/hosts such as `localhost`, a short name that needs the search domains of
 * resolv.conf), getaddrinfo as every other program on the host resolves it, without TTLs.
 */
export function systemLookup(
  resolver: dns.promises.Resolver = new dns.promises.Resolver(RESOLVER_OPTIONS),
): HostLookup {
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([
      resolver.resolve4(host, { ttl: true }),
      resolver.resolve6(host, { ttl: true }),
    ]);
    const answers: LookupAnswer[] = [];
    if (v4.status === 'fulfilled') for (const record of v4.value) answers.push({ ...record, family: 4 });
    if (v6.status === 'fulfilled') for (const record of v6.value) answers.push({ ...record, family: 6 });
    if (answers.length > 0) return answers;
    const found = await dns.promises.lookup(host, { all: true });
    return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
  };
}

/** What one resolution round produced: its smallest TTL (ms; undefined when the source gives none) and when. */
export interface Resolution {
  ttlMs: number | undefined;
  at: number;
}

/**
 * The refresh loop of a DNS name: resolves it every `refreshMs`, or sooner when the smallest TTL
 * says so (never more often than once a second); calls `onChange` only when the answer changed (as
 * `keyOf` sees it). A failed refresh keeps the last good answer, calls `onError` and is retried
 * after `refreshMs`: a DNS outage never empties a working upstream. Host names (HostResolver) and
 * SRV discovery (discovery.ts) share it.
 */
export abstract class RefreshLoop<T extends Resolution> {
  protected readonly name: string;
  protected readonly refreshMs: number;
  private readonly onChange: (resolved: T) => void;
  private readonly onError: (error: Error, kept: T | undefined) => void;
  protected resolved: T | undefined;
  protected started: Promise<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  protected constructor(
    name: string,
    refreshMs: number,
    onChange: (resolved: T) => void,
    onError: (error: Error, kept: T | undefined) => void,
  ) {
    this.name = name;
    this.refreshMs = Math.max(1, refreshMs);
    this.onChange = onChange;
    this.onError = onError;
  }

  /** One resolution; rejects on failure (an empty answer is one). */
  protected abstract resolveOnce(): Promise<T>;
  /** The answer as a comparable string: equal keys are no change. */
  protected abstract keyOf(resolved: T): string;

  /**
   * Resolves the name the first time. When that fails the promise rejects, yet refreshing goes on:
   * the first success later calls `onChange`, and stop() ends the attempts.
   */
  start(): Promise<T> {
    if (this.started !== undefined) return this.started;
    this.started = this.bounded(this.resolveOnce()).then(
      (resolved) => {
        if (!this.stopped) {
          this.resolved = resolved;
          this.schedule(this.nextDelayMs(resolved));
        }
        return resolved;
      },
      (error: unknown) => {
        if (!this.stopped) this.schedule(this.refreshMs);
        throw error;
      },
    );
    return this.started;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  current(): T | undefined {
    return this.resolved;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.refresh(), delayMs);
    this.timer.unref();
  }

  private nextDelayMs(resolved: T): number {
    if (resolved.ttlMs === undefined) return this.refreshMs;
    return Math.min(this.refreshMs, Math.max(MIN_TTL_REFRESH_MS, resolved.ttlMs));
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    let resolved: T;
    try {
      resolved = await this.bounded(this.resolveOnce());
    } catch (error) {
      if (this.stopped) return;
      this.schedule(this.refreshMs);
      this.notify(() => this.onError(asError(error), this.resolved));
      return;
    }
    if (this.stopped) return;
    const previous = this.resolved;
    this.resolved = resolved;
    this.schedule(this.nextDelayMs(resolved));
    if (previous === undefined || this.keyOf(previous) !== this.keyOf(resolved))
      this.notify(() => this.onChange(resolved));
  }

  private bounded(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, Math.min(MAX_LOOKUP_MS, Math.max(this.refreshMs, 1000)), this.name);
  }

  /** A listener's fault surfaces as an uncaught exception; the refresh loop, already rescheduled, goes on. */
  private notify(call: () => void): void {
    try {
      call();
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}

/** Keeps the addresses of one upstream host name fresh (see RefreshLoop for when and how). */
export class HostResolver extends RefreshLoop<ResolvedAddresses> {
  private readonly lookup: HostLookup;
  /** Set when the default lookup is used, so stop() can cancel its queries. */
  private readonly resolver: dns.promises.Resolver | undefined;

  constructor(
    host: string,
    refreshMs: number,
    onChange: (resolved: ResolvedAddresses) => void,
    onError: (error: Error, kept: ResolvedAddresses | undefined) => void,
    lookup?: HostLookup,
  ) {
    super(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, refreshMs, onChange, onError);
    if (lookup === undefined) {
      this.resolver = new dns.promises.Resolver(RESOLVER_OPTIONS);
      this.lookup = systemLookup(this.resolver);
    } else {
      this.resolver = undefined;
      this.lookup = lookup;
    }
  }

  /** An IP literal is its own answer and is never refreshed. */
  override start(): Promise<ResolvedAddresses> {
    if (this.started !== undefined) return this.started;
    const family = isIP(this.name);
    if (family !== 4 && family !== 6) return super.start();
    this.resolved = {
      host: this.name,
      addresses: [{ address: this.name, family }],
      ttlMs: undefined,
      at: Date.now(),
    };
    this.started = Promise.resolve(this.resolved);
    return this.started;
  }

  override stop(): void {
    super.stop();
    this.resolver?.cancel();
  }

  protected async resolveOnce(): Promise<ResolvedAddresses> {
    const answers = await this.lookup(this.name);
    const seen = new Set<string>();
    const addresses: ResolvedAddress[] = [];
    let ttlMs: number | undefined;
    for (const answer of answers) {
      if (answer.ttl !== undefined) ttlMs = Math.min(ttlMs ?? Number.POSITIVE_INFINITY, answer.ttl * 1000);
      const key = `${answer.family}/${answer.address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      addresses.push({ address: answer.address, family: answer.family });
    }
    if (addresses.length === 0) throw new NoAddressError(this.name);
    return { host: this.name, addresses, ttlMs, at: Date.now() };
  }

  protected keyOf(resolved: ResolvedAddresses): string {
    return addressKey(resolved);
  }
}

/** The set of addresses, order-insensitive: DNS servers rotate answers, which is no change. */
function addressKey(resolved: ResolvedAddresses): string {
  return resolved.addresses
    .map((entry) => `${entry.family}/${entry.address}`)
    .sort()
    .join(',');
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Bounds one lookup. The timer stays referenced: someone awaits this answer, and it ends within MAX_LOOKUP_MS. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UpstreamError('GW_DNS_TIMEOUT', `resolving "${host}" took longer than ${timeoutMs} ms`, { timeoutMs }),
        ),
      timeoutMs,
    );
  });
  // The abandoned lookup may still settle later; its outcome no longer matters to anyone.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
