/**
 * Cluster nodes for the shared-state tests: each one is a gateway, its event bus, metrics and alert
 * engine, wired to its own SharedState exactly as a service wires them, in this process, on ports
 * chosen by the system. Everything a node starts is stopped when the test ends.
 */
import * as http from 'node:http';
import type { TestContext } from 'node:test';
import { createSharedState, type SharedState } from '../../../src/cluster/redis/index.js';
import { parseConfigText } from '../../../src/config/index.js';
import type { Failure } from '../../../src/diagnose/index.js';
import { AlertEngine, EventBus, FanOut, Metrics } from '../../../src/observe/index.js';
import { type Exchange, Gateway } from '../../../src/proxy/index.js';

export interface ClusterNode {
  readonly id: string;
  readonly gateway: Gateway;
  readonly events: EventBus;
  readonly metrics: Metrics;
  readonly alerts: AlertEngine;
  readonly shared: SharedState;
  readonly port: number;
  /** Log records at warn and info, in order. */
  readonly warnings: Array<Record<string, unknown>>;
  readonly infos: Array<Record<string, unknown>>;
  /** Upstream failures this node's requests met (tries included), server address first. */
  readonly failures: Array<{ server: string | undefined; failure: Failure }>;
}

/** `body` holds upstreams, routes and alerts; the node adds listen, admin, log and cluster. */
export async function startNode(t: TestContext, id: string, redisUrl: string, body: string): Promise<ClusterNode> {
  const config = parseConfigText(
    `listen: [{ address: 127.0.0.1:0 }]
admin: { address: 127.0.0.1:0 }
log: { access: false, level: error }
cluster:
  node_id: ${id}
  redis: { url: "${redisUrl}", command_timeout: 200ms }
  hint_for: 10s
${body}`,
    `${id}.yaml`,
  );
  const warnings: Array<Record<string, unknown>> = [];
  const infos: Array<Record<string, unknown>> = [];
  const failures: ClusterNode['failures'] = [];
  const events = new EventBus();
  const metrics = new Metrics({ processMetrics: false });
  let gateway: Gateway | undefined;
  const shared = createSharedState(config, {
    registry: metrics.register,
    warn: (record) => warnings.push(record),
    info: (record) => infos.push(record),
    events,
    runtime: () => gateway!.runtime,
  });
  if (shared === undefined) throw new Error('the node config has no cluster.redis');
  gateway = new Gateway(config, {
    observer: new FanOut([
      metrics,
      {
        upstreamFailed: (ex: Exchange, failure: Failure) => failures.push({ server: ex.server?.address, failure }),
        exchangeDone: () => {},
      },
    ]),
    events,
    rateLimiterFor: shared.rateLimiterFor,
  });
  metrics.attach(events);
  metrics.collectFrom(() => gateway!);
  const alerts = new AlertEngine({
    runtime: () => gateway!.runtime,
    totals: () => metrics.totals(),
    emit: (transition) => events.emit(transition),
    warn: (record) => warnings.push(record),
    externalUrl: () => `http://${id}.test`,
    claim: shared.alertClaim,
  });
  alerts.configure(config.alerts);
  await shared.start();
  await gateway.start();
  alerts.start();
  t.after(async () => {
    alerts.stop();
    await gateway!.stop(0);
    await shared.stop();
  });
  const address = gateway.addresses()[0]!;
  return {
    id,
    gateway,
    events,
    metrics,
    alerts,
    shared,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    warnings,
    infos,
    failures,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** One GET through a node; resolves with the status (0 when the request itself failed). */
export function get(port: number, path = '/'): Promise<{ status: number; server: string | undefined }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, server: res.headers['x-server'] as string }));
    });
    req.on('error', () => resolve({ status: 0, server: undefined }));
  });
}

/** Keep-alive sockets of the shared agent are closed at the end of every test file. */
export function closeAgent(): void {
  agent.destroy();
}

/**
 * Requests spread round robin over the nodes at `perSecond` in total for `durationMs`, each sent at
 * its own moment (not waiting for the previous one). Returns every status with its send time.
 */
export async function drive(
  ports: readonly number[],
  perSecond: number,
  durationMs: number,
): Promise<Array<{ atMs: number; status: number }>> {
  const started = Date.now();
  const gapMs = 1000 / perSecond;
  const pending: Array<Promise<{ atMs: number; status: number }>> = [];
  for (let i = 0; ; i++) {
    const due = started + i * gapMs;
    if (due - started >= durationMs) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const atMs = Date.now() - started;
    pending.push(get(ports[i % ports.length]!).then(({ status }) => ({ atMs, status })));
  }
  return Promise.all(pending);
}
