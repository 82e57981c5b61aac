/**
 * `gatewise drill --target`: drill a Gatewise that is already running, whose upstream servers are
 * reached through a fault proxy (Gatewise's own `gatewise faults`, or Toxiproxy). The drill injects
 * toxics through the proxy's API, loads the gateway's URL, and reads what happened from the admin
 * API: events (`/api/events`), failures by type and cause (`/metrics`), availability (`/api/status`).
 */
import type { Stamped } from '../observe/index.js';
import type { DrillTarget } from './runner.js';
import type { FailurePoint, RecordedEvent, Replica } from './sandbox.js';
import { ToxiproxyClient } from './toxiproxy-client.js';

export interface RemoteOptions {
  /** Admin API, `http://host:port`. */
  admin: string;
  token?: string;
  /** Where the load goes, `http://host:port`. */
  gateway: string;
  /** The fault proxy's control API (Toxiproxy's), `http://host:port`. */
  faults: string;
  /** Only these proxies (default: every proxy some server of the gateway points at). */
  proxies?: readonly string[];
  /** The alert that must fire for scenarios that expect one (default: any alert). */
  alert?: string;
}

interface StatusJson {
  upstreams: Array<{ name: string; servers: Array<{ url: string; available?: boolean }> }>;
}

const POLL_MS = 200;
const FAILURE_LINE = /^gatewise_upstream_failures_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/gm;

function label(labels: string, name: string): string {
  return new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? '';
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

export class RemoteTarget implements DrillTarget {
  readonly events: RecordedEvent[] = [];
  readonly failures: FailurePoint[] = [];
  readonly faults: ToxiproxyClient;
  readonly alertOverride: string;
  replicas: Replica[] = [];
  readTimeoutMs = 60_000;
  private available = false;
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  private constructor(private readonly options: RemoteOptions) {
    this.faults = new ToxiproxyClient(options.faults.replace(/\/$/, ''));
    this.alertOverride = options.alert ?? '*';
  }

  get gatewayOrigin(): string {
    return this.options.gateway.replace(/\/$/, '');
  }

  /** Finds the proxied servers, takes the first readings, and polls until closed. */
  static async connect(options: RemoteOptions): Promise<RemoteTarget> {
    const target = new RemoteTarget(options);
    const proxies = await target.faults.proxies();
    const status = (await target.admin('/api/status')) as StatusJson;
    const servers = status.upstreams.flatMap((u) => u.servers.map((s) => ({ upstream: u.name, url: s.url })));
    for (const proxy of Object.values(proxies)) {
      if (options.proxies !== undefined && !options.proxies.includes(proxy.name)) continue;
      const port = portOf(proxy.listen);
      const server = servers.find((s) => portOf(s.url.replace(/\/$/, '')) === port);
      if (server === undefined) continue;
      target.replicas.push({
        name: proxy.name,
        backendPort: portOf(proxy.upstream),
        proxyPort: port,
        server: `${new URL(server.url).hostname}:${port}`,
      });
      const config = (await target.admin('/api/config')) as {
        upstreams: Record<string, { timeouts: { read: number } }>;
      };
      target.readTimeoutMs = config.upstreams[server.upstream]?.timeouts.read ?? target.readTimeoutMs;
    }
    if (target.replicas.length === 0)
      throw new Error(
        `no server of the gateway at ${options.admin} points at a proxy of ${options.faults} (proxies: ${
          Object.values(proxies)
            .map((p) => `${p.name} ${p.listen}`)
            .join(', ') || 'none'
        })`,
      );
    await target.poll(true);
    target.timer = setInterval(() => void target.poll(false), POLL_MS);
    return target;
  }

  allAvailable(): boolean {
    return this.available;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async admin(path: string, text = false): Promise<unknown> {
    const response = await fetch(`${this.options.admin.replace(/\/$/, '')}${path}`, {
      headers: this.options.token ? { authorization: `Bearer ${this.options.token}` } : {},
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`admin API ${path}: HTTP ${response.status}`);
    return text ? response.text() : response.json();
  }

  /** One reading; the first one only marks the events already there as seen. */
  private async poll(first: boolean): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const [events, metrics, status] = await Promise.all([
        this.admin('/api/events') as Promise<{ recent: Stamped[] }>,
        this.admin('/metrics', true) as Promise<string>,
        this.admin('/api/status') as Promise<StatusJson>,
      ]);
      for (const event of events.recent) {
        const key = JSON.stringify(event);
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        if (!first) this.events.push({ atMs: Date.parse(event.at), event });
      }
      const totals: Record<string, number> = {};
      for (const match of metrics.matchAll(FAILURE_LINE)) {
        const key = `${label(match[1]!, 'error_type')}/${label(match[1]!, 'cause')}`;
        totals[key] = (totals[key] ?? 0) + Number(match[2]);
      }
      this.failures.push({ atMs: Date.now(), totals });
      const ports = new Set(this.replicas.map((r) => r.proxyPort));
      this.available = status.upstreams
        .flatMap((u) => u.servers)
        .filter((s) => ports.has(portOf(s.url.replace(/\/$/, ''))))
        .every((s) => s.available !== false);
    } catch {
      // A reading missed (the admin API busy): the next one follows.
    } finally {
      this.polling = false;
    }
  }
}
