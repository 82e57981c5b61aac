/**
 * The fault proxy server: a collection of proxies (Toxiproxy's proxy_collection.go) driven by the
 * drill runner through this class, or by any Toxiproxy client through the control API.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, parseHostPort } from './address.js';
import { startControlApi } from './api.js';
import { FaultProxyError } from './errors.js';
import { FaultProxy, type ProxyInfo } from './proxy.js';
import { asObject, optional, parseToxic, type ToxicInfo, type ToxicOptions, type ToxicUpdate } from './toxic.js';

/** A proxy to create: the format of Toxiproxy's POST /proxies, /populate and `-config` file. */
export interface ProxyOptions {
  name: string;
  /** `host:port` to listen on; port 0 picks a free one (read it back from `listen`). Default `''`: every interface, any port. */
  listen?: string;
  /** `host:port` of the upstream server. */
  upstream: string;
  /** Default true. */
  enabled?: boolean;
}

/** A change to a proxy: a new listen or upstream restarts it and drops its connections. */
export interface ProxyUpdate {
  listen?: string;
  upstream?: string;
  enabled?: boolean;
}

export interface FaultProxyServerOptions {
  /** Where the control API listens (`host:port`, port 0 = any free port), or false for none. Default `127.0.0.1:0`. */
  control?: string | false;
  /** Proxies to create at start, as /populate would. */
  proxies?: readonly ProxyOptions[];
}

/** What /populate did before it stopped: Toxiproxy answers with both. */
export interface PopulateResult {
  proxies: ProxyInfo[];
  error?: FaultProxyError;
}

export class FaultProxyServer {
  private readonly collection = new Map<string, FaultProxy>();
  /** Changes to the collection run one at a time, as Toxiproxy holds its locks. */
  private queue: Promise<unknown> = Promise.resolve();
  private control: Server | undefined;
  private closed = false;
  /** `http://host:port` of the control API, when it runs. */
  controlUrl: string | undefined;

  private constructor() {}

  /** Starts the control API (unless `control: false`) and the given proxies. */
  static async start(options: FaultProxyServerOptions = {}): Promise<FaultProxyServer> {
    const server = new FaultProxyServer();
    try {
      if (options.proxies !== undefined) await server.populate(options.proxies);
      const control = options.control ?? '127.0.0.1:0';
      if (control !== false) {
        const address = parseHostPort(control);
        if (address === undefined)
          throw new FaultProxyError('listen_failed', `listen tcp ${control}: not a host:port address`);
        server.control = await startControlApi(server, address);
        const bound = server.control.address() as AddressInfo;
        server.controlUrl = `http://${formatHostPort(bound.address, bound.port)}`;
      }
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  listProxies(): ProxyInfo[] {
    return [...this.collection.values()].map((proxy) => proxy.info());
  }

  getProxy(name: string): ProxyInfo {
    return this.find(name).info();
  }

  /** Open connections through a proxy right now. */
  connectionCount(name: string): number {
    return this.find(name).connectionCount;
  }

  /** Creates a proxy (enabled unless `enabled: false`); 409 if the name is taken. */
  addProxy(options: ProxyOptions): Promise<ProxyInfo> {
    return this.serialize(async () => {
      const input = parseProxyOptions(options);
      if (this.collection.has(input.name)) throw new FaultProxyError('proxy_exists');
      const proxy = new FaultProxy(input.name, input.listen ?? '', input.upstream);
      if (input.enabled !== false) await proxy.start();
      this.collection.set(proxy.name, proxy);
      return proxy.info();
    });
  }

  /** Creates or replaces proxies; throws the first failure (see populateWithResult). */
  async populate(list: readonly ProxyOptions[]): Promise<ProxyInfo[]> {
    const result = await this.populateWithResult(list);
    if (result.error !== undefined) throw result.error;
    return result.proxies;
  }

  /**
   * Toxiproxy's /populate: everything is checked first; then a proxy of the same name with the same
   * listen and upstream is kept untouched (toxics and all), a different one is stopped and replaced.
   */
  populateWithResult(list: readonly ProxyOptions[]): Promise<PopulateResult> {
    return this.serialize(async () => {
      if (!Array.isArray(list as unknown))
        throw new FaultProxyError('bad_request_body', 'expected a JSON array of proxies');
      const inputs = list.map((item, index) => parseProxyOptions(item, ` at proxy ${index + 1}`));
      const proxies: ProxyInfo[] = [];
      for (const input of inputs) {
        try {
          proxies.push(await this.addOrReplace(input));
        } catch (error) {
          if (error instanceof FaultProxyError) return { proxies, error };
          throw error;
        }
      }
      return { proxies };
    });
  }

  /** Changes listen, upstream or enabled; a new address restarts the proxy and drops its connections. */
  updateProxy(name: string, changes: ProxyUpdate): Promise<ProxyInfo> {
    return this.serialize(async () => {
      const proxy = this.find(name);
      const body = asObject(changes);
      const listen = optional(body, 'listen', 'string') ?? proxy.listen;
      const upstream = optional(body, 'upstream', 'string') ?? proxy.upstream;
      const enabled = optional(body, 'enabled', 'boolean') ?? proxy.enabled;
      if (await proxy.differs(listen, upstream)) {
        await proxy.stop();
        proxy.listen = listen;
        proxy.upstream = upstream;
      }
      if (enabled) await proxy.start();
      else await proxy.stop();
      return proxy.info();
    });
  }

  /** `down` is `setEnabled(name, false)`: connecting is refused and open connections are closed. */
  setEnabled(name: string, enabled: boolean): Promise<ProxyInfo> {
    return this.updateProxy(name, { enabled });
  }

  removeProxy(name: string): Promise<void> {
    return this.serialize(async () => {
      const proxy = this.find(name);
      await proxy.stop();
      this.collection.delete(name);
    });
  }

  listToxics(proxy: string): ToxicInfo[] {
    return this.find(proxy)
      .toxicList()
      .map((toxic) => toxic.info());
  }

  getToxic(proxy: string, toxic: string): ToxicInfo {
    return this.find(proxy).findToxic(toxic).info();
  }

  /** Adds a toxic; it applies at once to open connections too. 409 if the name is taken on this proxy. */
  addToxic(proxy: string, toxic: ToxicOptions): ToxicInfo {
    const target = this.find(proxy);
    const parsed = parseToxic(toxic);
    target.addToxic(parsed);
    return parsed.info();
  }

  /** Changes a toxic's attributes (merged) and toxicity, on open connections too. */
  updateToxic(proxy: string, toxic: string, changes: ToxicUpdate): ToxicInfo {
    return this.find(proxy).updateToxic(toxic, changes).info();
  }

  removeToxic(proxy: string, toxic: string): void {
    this.find(proxy).removeToxic(toxic);
  }

  /** Toxiproxy's /reset: every proxy enabled, every toxic removed. */
  reset(): Promise<void> {
    return this.serialize(async () => {
      for (const proxy of this.collection.values()) {
        await proxy.start();
        proxy.resetToxics();
      }
    });
  }

  /** Stops the control API and every proxy, closing all their connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const control = this.control;
    this.control = undefined;
    if (control !== undefined) {
      const stopped = new Promise<void>((resolve) => control.close(() => resolve()));
      control.closeAllConnections();
      await stopped;
    }
    await this.serialize(async () => {
      for (const proxy of this.collection.values()) await proxy.stop();
      this.collection.clear();
    });
  }

  private find(name: string): FaultProxy {
    const proxy = this.collection.get(name);
    if (proxy === undefined) throw new FaultProxyError('proxy_not_found');
    return proxy;
  }

  private async addOrReplace(input: ProxyOptions): Promise<ProxyInfo> {
    const listen = input.listen ?? '';
    const existing = this.collection.get(input.name);
    if (existing !== undefined) {
      if (!(await existing.differs(listen, input.upstream))) return existing.info();
      await existing.stop();
      this.collection.delete(input.name);
    }
    const proxy = new FaultProxy(input.name, listen, input.upstream);
    if (input.enabled !== false) await proxy.start();
    this.collection.set(proxy.name, proxy);
    return proxy.info();
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }
}

/** A proxy from a JSON body, checked as Toxiproxy does: name and upstream are required. */
function parseProxyOptions(input: unknown, where = ''): ProxyOptions {
  const body = asObject(input);
  const name = optional(body, 'name', 'string') ?? '';
  if (name === '') throw new FaultProxyError('missing_field', `name${where}`);
  const upstream = optional(body, 'upstream', 'string') ?? '';
  if (upstream === '') throw new FaultProxyError('missing_field', `upstream${where}`);
  return {
    name,
    upstream,
    listen: optional(body, 'listen', 'string'),
    enabled: optional(body, 'enabled', 'boolean'),
  };
}
