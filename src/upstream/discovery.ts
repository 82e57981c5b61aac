import * as dns from 'node:dns';
import { GatewayError } from '../errors.js';
import { RESOLVER_OPTIONS, RefreshLoop, type Resolution } from './dns.js';

/**
 * Upstream servers from DNS SRV records (RFC 2782): `_http._tcp.api.default.svc.cluster.local` names
 * one record per server, `priority weight port target`. A headless Kubernetes Service publishes
 * its ready pods this way. Each target stays a host name in the server URL, so the gateway's
 * HostResolver turns it into addresses as it does for any host name in a static server list.
 */

/** One SRV record as `dns.resolveSrv` answers it. */
export interface SrvAnswer {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export type SrvLookup = (name: string) => Promise<SrvAnswer[]>;

/** One server found through SRV: a server list entry as the configuration would write it. */
export interface DiscoveredServer {
  url: string;
  weight: number;
  backup: boolean;
}

export interface DiscoveredServers extends Resolution {
  srv: string;
  servers: DiscoveredServer[];
}

export type DiscoveryScheme = 'http' | 'https';

/** Weights found in SRV records are scaled so that the largest of a tier is this. */
const MAX_DISCOVERED_WEIGHT = 100;

/** An SRV name that answered without any usable record. Coded as the resolver's ENODATA, so it reads as dns_error. */
export class NoSrvRecordError extends GatewayError {
  readonly srv: string;

  constructor(srv: string) {
    super('ENODATA', `SRV name "${srv}" has no usable record`);
    this.srv = srv;
  }
}

/** The default SRV lookup: a DNS query through c-ares (SRV records never come from /etc/hosts). */
export function systemSrvLookup(
  resolver: dns.promises.Resolver = new dns.promises.Resolver(RESOLVER_OPTIONS),
): SrvLookup {
  return (name) => resolver.resolveSrv(name);
}

/**
 * SRV records as servers. RFC 2782 §"The format of the SRV RR": a client must try the lowest
 * priority first and go to a higher one only when those fail — here the lowest priority records are
 * the primaries and every higher priority is a backup (Gatewise has two tiers, not an ordered list).
 * Within a tier, weights keep their ratio, scaled so the largest is 100 (weight 0 records get 1:
 * "a very small chance", as the RFC says); equal weights become 1. A target of "." means "no service
 * here" and is dropped; a repeated target:port is listed once.
 */
export function serversFromSrv(records: readonly SrvAnswer[], scheme: DiscoveryScheme): DiscoveredServer[] {
  const seen = new Set<string>();
  const usable: SrvAnswer[] = [];
  for (const record of records) {
    const target = record.name.endsWith('.') ? record.name.slice(0, -1) : record.name;
    const key = `${target.toLowerCase()}:${record.port}`;
    if (target === '' || record.port <= 0 || seen.has(key)) continue;
    seen.add(key);
    usable.push({ ...record, name: target });
  }
  const lowest = Math.min(...usable.map((record) => record.priority));
  const tiers = [usable.filter((r) => r.priority === lowest), usable.filter((r) => r.priority !== lowest)];
  return tiers.flatMap((tier, index) => {
    const weights = scaledWeights(tier.map((record) => record.weight));
    return tier
      .map((record, i) => ({
        url: `${scheme}://${formatTarget(record.name)}:${record.port}`,
        weight: weights[i]!,
        backup: index === 1,
      }))
      .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  });
}

/** SRV weights (0..65535) as server weights: equal ones are 1, else their ratio with the largest at 100. */
function scaledWeights(weights: readonly number[]): number[] {
  const max = Math.max(0, ...weights);
  if (weights.every((weight) => weight === max)) return weights.map(() => 1);
  return weights.map((weight) => Math.max(1, Math.round((weight * MAX_DISCOVERED_WEIGHT) / max)));
}

/** A target is a host name (RFC 2782); an IPv6 literal, which some responders put there, needs brackets in a URL. */
function formatTarget(target: string): string {
  return target.includes(':') ? `[${target}]` : target;
}

/**
 * Keeps the servers behind one SRV name fresh: looked up every `intervalMs`; a change of the set
 * calls `onChange`; a failure (an empty answer is one) keeps the last good set and calls `onError`.
 * Node's resolver does not report the TTL of SRV records, so the interval alone decides when; the
 * targets' addresses follow their own A/AAAA TTLs through HostResolver.
 */
export class SrvDiscovery extends RefreshLoop<DiscoveredServers> {
  private readonly scheme: DiscoveryScheme;
  private readonly lookup: SrvLookup;
  /** Set when the default lookup is used, so stop() can cancel its queries. */
  private readonly resolver: dns.promises.Resolver | undefined;

  constructor(
    srv: string,
    scheme: DiscoveryScheme,
    intervalMs: number,
    onChange: (found: DiscoveredServers) => void,
    onError: (error: Error, kept: DiscoveredServers | undefined) => void,
    lookup?: SrvLookup,
  ) {
    super(srv.endsWith('.') ? srv.slice(0, -1) : srv, intervalMs, onChange, onError);
    this.scheme = scheme;
    if (lookup === undefined) {
      this.resolver = new dns.promises.Resolver(RESOLVER_OPTIONS);
      this.lookup = systemSrvLookup(this.resolver);
    } else {
      this.resolver = undefined;
      this.lookup = lookup;
    }
  }

  override stop(): void {
    super.stop();
    this.resolver?.cancel();
  }

  protected async resolveOnce(): Promise<DiscoveredServers> {
    const servers = serversFromSrv(await this.lookup(this.name), this.scheme);
    if (servers.length === 0) throw new NoSrvRecordError(this.name);
    return { srv: this.name, servers, ttlMs: undefined, at: Date.now() };
  }

  protected keyOf(found: DiscoveredServers): string {
    return found.servers.map((s) => `${s.url} ${s.weight} ${s.backup}`).join(',');
  }
}

/** `host:port` of each discovered server, as events and logs list them. */
export function discoveredTargets(found: DiscoveredServers | undefined): string[] {
  return found?.servers.map((s) => s.url.slice(s.url.indexOf('//') + 2)) ?? [];
}

/** What one upstream's `discover` asks for. */
export interface DiscoverSpec {
  srv: string;
  scheme: DiscoveryScheme;
  intervalMs: number;
}

export interface DiscoveryListener {
  /** The servers found for `upstream` changed (or were found for the first time after failures). */
  changed(upstream: string, srv: string, found: DiscoveredServers): void;
  /** A lookup failed; `kept` is what stays in use (nothing when no lookup succeeded yet). */
  failed(upstream: string, srv: string, error: Error, kept: DiscoveredServers | undefined): void;
}

/** The SRV discoveries of a configuration, one per upstream with `discover`. */
export class UpstreamDiscoveries {
  private readonly running = new Map<string, { key: string; discovery: SrvDiscovery }>();

  constructor(
    private readonly listener: DiscoveryListener,
    private readonly lookup?: SrvLookup,
  ) {}

  /**
   * Starts discovery for every upstream in `wanted` (restarting one whose settings changed) and
   * stops the others; awaits the first lookup of those started. A first lookup that fails is
   * reported to `failed` with nothing kept, and retried on the interval. Returns whether any
   * upstream has servers found.
   */
  async sync(wanted: ReadonlyMap<string, DiscoverSpec>): Promise<boolean> {
    for (const [upstream, { key, discovery }] of this.running) {
      const spec = wanted.get(upstream);
      if (spec === undefined || specKey(spec) !== key) {
        discovery.stop();
        this.running.delete(upstream);
      }
    }
    const starts: Array<Promise<unknown>> = [];
    for (const [upstream, spec] of wanted) {
      if (this.running.has(upstream)) continue;
      const discovery = new SrvDiscovery(
        spec.srv,
        spec.scheme,
        spec.intervalMs,
        (found) => this.listener.changed(upstream, spec.srv, found),
        (error, kept) => this.listener.failed(upstream, spec.srv, error, kept),
        this.lookup,
      );
      this.running.set(upstream, { key: specKey(spec), discovery });
      starts.push(
        discovery.start().catch((error: unknown) => {
          this.listener.failed(
            upstream,
            spec.srv,
            error instanceof Error ? error : new Error(String(error)),
            undefined,
          );
        }),
      );
    }
    await Promise.all(starts);
    return [...this.running.values()].some(({ discovery }) => discovery.current() !== undefined);
  }

  /** The servers last found for `upstream`, if it has discovery and it found any. */
  servers(upstream: string): readonly DiscoveredServer[] | undefined {
    return this.running.get(upstream)?.discovery.current()?.servers;
  }

  stop(): void {
    for (const { discovery } of this.running.values()) discovery.stop();
    this.running.clear();
  }
}

function specKey(spec: DiscoverSpec): string {
  return `${spec.scheme} ${spec.srv} ${spec.intervalMs}`;
}
