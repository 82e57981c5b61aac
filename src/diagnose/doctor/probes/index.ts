/**
 * Every network probe doctor makes, each made once: checks ask for the same connect or handshake
 * and share the answer. At most `concurrency` probes are in flight; each is bounded by the timeout.
 */
import { isIP } from 'node:net';
import type { ServerAddress } from '../model.js';
import { type ConnectResult, connectProbe } from './connect.js';
import { type LookupResult, lookupProbe, type TtlResult, ttlProbe } from './dns.js';
import { type Endpoint, endpointKey as key } from './endpoint.js';
import { type HttpProbeOptions, type HttpResult, httpProbe } from './http.js';
import { Limiter } from './limiter.js';
import { type HandshakeOptions, type HandshakeResult, handshakeProbe } from './tls.js';

export type { ConnectResult } from './connect.js';
export type { LookupResult, TtlResult } from './dns.js';
export { type Endpoint, endpointKey, endpointText, formatMs } from './endpoint.js';
export type { HttpOutcome, HttpProbeOptions, HttpResult } from './http.js';
export type { CertificateInfo, HandshakeOptions, HandshakeResult } from './tls.js';

/** Addresses tried per host name: enough to see that one of them is wrong, few enough to stay quick. */
const MAX_ADDRESSES = 4;

export class ProbeSet {
  private readonly memo = new Map<string, Promise<unknown>>();
  private readonly limiter: Limiter;

  constructor(
    readonly timeoutMs: number,
    concurrency: number,
  ) {
    this.limiter = new Limiter(concurrency);
  }

  private once<T>(key: string, probe: () => Promise<T>): Promise<T> {
    let promise = this.memo.get(key) as Promise<T> | undefined;
    if (promise === undefined) {
      promise = this.limiter.run(probe);
      this.memo.set(key, promise);
    }
    return promise;
  }

  lookup(host: string, upstream = ''): Promise<LookupResult> {
    return this.once(`lookup|${host}`, () => lookupProbe(host, this.timeoutMs, upstream));
  }

  ttl(host: string, server?: string): Promise<TtlResult> {
    return this.once(`ttl|${host}|${server ?? ''}`, () => ttlProbe(host, this.timeoutMs, server));
  }

  /** The endpoints a server stands for: its resolved addresses (at most a few), or its socket. */
  async endpoints(server: ServerAddress, upstream = ''): Promise<Endpoint[]> {
    if (server.kind === 'unix') return [{ kind: 'unix', path: server.path }];
    if (isIP(server.host) !== 0) return [{ kind: 'tcp', address: server.host, port: server.port, host: server.host }];
    const found = await this.lookup(server.host, upstream);
    return found.addresses
      .slice(0, MAX_ADDRESSES)
      .map(({ address }) => ({ kind: 'tcp' as const, address, port: server.port, host: server.host }));
  }

  connect(endpoint: Endpoint, upstream = ''): Promise<ConnectResult> {
    return this.once(`connect|${key(endpoint)}`, () => connectProbe(endpoint, this.timeoutMs, upstream));
  }

  handshake(endpoint: Endpoint, options: HandshakeOptions, upstream = ''): Promise<HandshakeResult> {
    return this.once(`tls|${key(endpoint)}|${JSON.stringify(options)}`, () =>
      handshakeProbe(endpoint, options, this.timeoutMs, upstream),
    );
  }

  http(endpoint: Endpoint, options: HttpProbeOptions): Promise<HttpResult> {
    return this.once(`http|${key(endpoint)}|${JSON.stringify(options)}`, () => httpProbe(endpoint, options));
  }
}
