/**
 * A drill's sandbox on loopback: a whole Gatewise (its own temp config file, so that faults can be
 * injected by reload too), two managed demo backends, each reached through its own fault proxy
 * (gateway → proxy rN → backend rN), and recorders for everything the verdict reads: events, failure
 * counts by cause over time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/index.js';
import type { Stamped } from '../observe/index.js';
import { Service } from '../service.js';
import { freePort } from './ports.js';
import type { ToxiproxyClient } from './toxiproxy-client.js';

const BACKEND = fileURLToPath(new URL('../demo/backend.js', import.meta.url));

/** Timings of the sandbox's gateway: short, so that a drill detects and recovers in seconds. */
export const DRILL_READ_TIMEOUT_MS = 1000;

export interface Replica {
  name: string;
  /** Where the backend process listens. */
  backendPort: number;
  /** Where its fault proxy listens: the address the gateway knows the server by. */
  proxyPort: number;
  /** `127.0.0.1:port` of the proxy, as the gateway names the server. */
  server: string;
}

/** What a replica's server entry is during a drill: behind its proxy (normal), or replaced by a URL. */
export type ReplicaTarget = { kind: 'proxy' } | { kind: 'url'; url: string };

export interface SandboxOptions {
  faults: ToxiproxyClient;
  replicas?: number;
  /** Extra upstream keys (indented for the upstream block), e.g. limits. */
  upstreamExtra?: string;
}

export interface RecordedEvent {
  atMs: number;
  event: Stamped;
}

export interface FailurePoint {
  atMs: number;
  /** Failed tries so far, by `type/cause`. */
  totals: Record<string, number>;
}

export class Sandbox {
  readonly events: RecordedEvent[] = [];
  readonly failures: FailurePoint[] = [];
  readonly targets: ReplicaTarget[];
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    readonly service: Service,
    readonly replicas: Replica[],
    readonly faults: ToxiproxyClient,
    private readonly dir: string,
    private readonly file: string,
    private readonly upstreamExtra: string,
  ) {
    this.targets = replicas.map(() => ({ kind: 'proxy' }));
  }

  static async start(options: SandboxOptions): Promise<Sandbox> {
    const replicas: Replica[] = [];
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const proxyPort = await freePort();
      replicas.push({ name: `r${i}`, backendPort: await freePort(), proxyPort, server: `127.0.0.1:${proxyPort}` });
    }
    for (const r of replicas) {
      await options.faults.createProxy({
        name: r.name,
        listen: `127.0.0.1:${r.proxyPort}`,
        upstream: `127.0.0.1:${r.backendPort}`,
      });
    }
    const dir = mkdtempSync(join(tmpdir(), 'gatewise-drill-'));
    const file = join(dir, 'gatewise.yaml');
    const upstreamExtra = options.upstreamExtra ?? '';
    writeFileSync(
      file,
      configText(
        replicas,
        replicas.map(() => ({ kind: 'proxy' })),
        upstreamExtra,
      ),
    );
    const service = await Service.create({ config: await loadConfigFile(file), configFile: file });
    const sandbox = new Sandbox(service, replicas, options.faults, dir, file, upstreamExtra);
    service.events.on((event) => sandbox.events.push({ atMs: Date.now(), event }));
    await service.start();
    sandbox.sampler = setInterval(() => sandbox.sampleFailures(), 100);
    sandbox.sampler.unref();
    return sandbox;
  }

  get gatewayOrigin(): string {
    return `http://${this.service.gateway.addresses()[0]}`;
  }

  /** Resolves once every server takes traffic (processes ready, health checks passed). */
  async ready(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.allAvailable()) {
      if (Date.now() > deadline) throw new Error('the drill sandbox did not become ready (backends not healthy)');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  allAvailable(): boolean {
    return this.service.gateway.runtime.upstreams.get('app')!.servers.every((s) => s.available);
  }

  /** Whether the server the gateway knows replica `index` by takes traffic. */
  available(index: number): boolean {
    return this.service.gateway.runtime.upstreams.get('app')!.servers[index]?.available ?? false;
  }

  /** Points replica `index` at another URL (or back at its proxy) through a config reload. */
  async retarget(index: number, target: ReplicaTarget): Promise<void> {
    this.targets[index] = target;
    writeFileSync(this.file, configText(this.replicas, this.targets, this.upstreamExtra));
    const result = await this.service.reload();
    if (!result.ok) throw new Error(`drill reload refused: ${result.problems.join('; ')}`);
  }

  /** The sandbox as the runner sees any drill target. */
  asTarget(): import('./runner.js').DrillTarget {
    return {
      gatewayOrigin: this.gatewayOrigin,
      faults: this.faults,
      replicas: this.replicas,
      events: this.events,
      failures: this.failures,
      allAvailable: () => this.allAvailable(),
      readTimeoutMs: DRILL_READ_TIMEOUT_MS,
      sandbox: this,
    };
  }

  /** The config file as it is now (for doctor). */
  get configFile(): string {
    return this.file;
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    await this.service.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private sampleFailures(): void {
    const totals: Record<string, number> = {};
    for (const failure of this.service.metrics.failureCounts()) {
      const key = `${failure.type}/${failure.cause}`;
      totals[key] = (totals[key] ?? 0) + failure.count;
    }
    this.failures.push({ atMs: Date.now(), totals });
  }
}

/** The sandbox's configuration: short timeouts, retries on every safe failure, fast detection, drill alerts. */
function configText(replicas: readonly Replica[], targets: readonly ReplicaTarget[], upstreamExtra: string): string {
  const servers = replicas.map((r, i) => {
    const target = targets[i]!;
    if (target.kind === 'url') return `      - url: ${target.url}`;
    return `      - url: http://127.0.0.1:${r.proxyPort}
        run:
          command: ${JSON.stringify(process.execPath)}
          args: [${JSON.stringify(BACKEND)}, --name, ${r.name}]
          env: { PORT: "${r.backendPort}" }
          stop_timeout: 2s
          restart: { backoff: { initial: 200ms, max: 2s } }`;
  });
  return `# gatewise drill sandbox
listen: [{ address: 127.0.0.1:0 }]
admin: { address: 127.0.0.1:0 }
log: { access: false, level: fatal }
upstreams:
  app:
    servers:
${servers.join('\n')}
    timeouts: { connect: 500ms, send: 2s, read: ${DRILL_READ_TIMEOUT_MS}ms }
    retries: { attempts: 3, on: [connect_failure, refused, reset, timeout, tls, protocol, 502, 503, 504] }
    health:
      active: { path: /health, interval: 250ms, timeout: 200ms, healthy_after: 2, unhealthy_after: 2 }
      passive: { failures: 2, window: 5s, eject_for: 2s, max_eject_for: 5s, max_ejected_percent: 100 }
${upstreamExtra}routes:
  - match: { path: / }
    upstream: app
alerts:
  default_rules: false
  evaluate_every: 100ms
  rules:
    - { name: DrillServerDown, server_unhealthy: {}, for: 300ms, severity: warning }
    - { name: DrillUpstreamDown, upstream_unavailable: {}, severity: critical }
    - { name: DrillErrorRatio, error_ratio: { status_class: 5xx, above: 5%, window: 3s, min_requests: 5 }, severity: critical }
    - { name: DrillRestartLoop, restart_loop: { restarts: 1, window: 1m }, severity: critical }
`;
}
