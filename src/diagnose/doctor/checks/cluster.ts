/**
 * A cluster node: is etcd reachable and how fast, is this machine's clock in step with etcd's, which
 * nodes reject or lag behind the shared configuration, and does Redis answer.
 */
import { createEtcdClient, describeEtcdError, withTimeout } from '../../../cluster/etcd-client.js';
import { readClusterView } from '../../../cluster/view.js';
import { formatMs } from '../probes/index.js';
import type { DoctorFinding } from '../types.js';
import { type CheckContext, type DoctorCheck, finding } from './shared.js';

/** Clocks further apart than this make lease times and `updated_at` misleading. */
const SKEW_WARNING_MS = 1000;

async function etcdEndpoint(endpoint: string, timeoutMs: number): Promise<DoctorFinding[]> {
  const started = performance.now();
  try {
    const response = await fetch(`${endpoint.replace(/\/$/, '')}/version`, { signal: AbortSignal.timeout(timeoutMs) });
    const ms = performance.now() - started;
    const body = (await response.json()) as { etcdserver?: string };
    const out = [
      finding('ok', 'cluster', `etcd ${endpoint} answers in ${formatMs(ms)} (etcd ${body.etcdserver ?? '?'})`),
    ];
    const date = response.headers.get('date');
    if (date !== null) {
      // The Date header has whole seconds: a second of error is its own resolution.
      const skew = Date.now() - ms / 2 - Date.parse(date);
      if (Math.abs(skew) > SKEW_WARNING_MS + 1000)
        out.push(
          finding(
            'warning',
            'cluster',
            `this clock is ${formatMs(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} etcd's`,
            {
              target: endpoint,
              evidence: [`etcd Date: ${date}`, `here: ${new Date().toUTCString()}`],
              fix: 'run a time daemon (chrony, systemd-timesyncd) on every node and on the etcd hosts',
            },
          ),
        );
    }
    return out;
  } catch (error) {
    return [
      finding('critical', 'cluster', `etcd ${endpoint} does not answer`, {
        target: endpoint,
        evidence: [`GET ${endpoint}/version: ${(error as Error).cause ?? (error as Error).message}`],
        fix: 'start etcd there, or correct cluster.etcd.endpoints; nodes serve their last good configuration meanwhile',
      }),
    ];
  }
}

async function records(ctx: CheckContext): Promise<DoctorFinding[]> {
  const cluster = ctx.model.cluster!;
  const client = createEtcdClient(cluster.etcd);
  try {
    const view = await withTimeout(readClusterView(client, cluster.etcd.prefix), ctx.timeoutMs, 'etcd read');
    const current = view.config?.revision ?? null;
    const out: DoctorFinding[] = [];
    if (view.nodes.length === 0)
      out.push(finding('warning', 'cluster', 'no node record in etcd: no gateway node is running or connected'));
    for (const node of view.nodes) {
      const where = `node ${node.node_id}`;
      if (node.status === 'rejected')
        out.push(
          finding(
            'warning',
            'cluster',
            `${where} rejected the shared configuration (revision ${node.rejected_revision ?? '?'})`,
            {
              target: where,
              evidence: [node.error ?? '', ...(node.problems ?? [])].filter(Boolean),
              fix: 'fix the document and push it again (gatewise config push checks it first)',
            },
          ),
        );
      else if (node.status === 'degraded')
        out.push(
          finding('warning', 'cluster', `${where} is degraded: serving its last good copy`, {
            target: where,
            evidence: [node.error ?? `applied revision ${node.applied_revision}`],
          }),
        );
      else if (node.lagging)
        out.push(
          finding(
            'warning',
            'cluster',
            `${where} is at revision ${node.applied_revision}, the shared configuration at ${current}`,
            {
              target: where,
              evidence: [`updated ${node.updated_at}`],
              fix: "check that node's log for etcd warnings",
            },
          ),
        );
      else out.push(finding('ok', 'cluster', `${where} serves revision ${node.applied_revision}`));
    }
    return out;
  } catch (error) {
    ctx.skip('cluster', 'node records', describeEtcdError(error));
    return [];
  } finally {
    client.close();
  }
}

async function redis(ctx: CheckContext): Promise<DoctorFinding[]> {
  const config = ctx.model.cluster?.redis;
  if (config === undefined) return [];
  const { Redis } = await import('ioredis');
  const client = new Redis(config.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: ctx.timeoutMs,
    commandTimeout: ctx.timeoutMs,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  const started = performance.now();
  try {
    await client.connect();
    await client.ping();
    return [finding('ok', 'cluster', `Redis answers in ${formatMs(performance.now() - started)}`)];
  } catch (error) {
    return [
      finding('warning', 'cluster', 'Redis does not answer: cluster rate limits fall back to local ones', {
        target: new URL(config.url).host,
        evidence: [(error as Error).message],
        fix: 'start Redis there, or correct cluster.redis.url',
      }),
    ];
  } finally {
    client.disconnect();
  }
}

export const clusterCheck: DoctorCheck = {
  name: 'cluster',
  description: "a cluster node: etcd's reachability, latency and clock, every node's record, Redis",
  async run(ctx) {
    const cluster = ctx.model.cluster;
    if (cluster === undefined) return [];
    const source: DoctorFinding[] =
      cluster.source.kind === 'last-good'
        ? [
            finding(
              'critical',
              'cluster',
              `the shared configuration could not be read from etcd; examined the last good copy (revision ${cluster.source.revision})`,
              {
                evidence: [cluster.source.why],
                fix: 'bring etcd back; the nodes serve their last good copy meanwhile',
              },
            ),
          ]
        : [finding('ok', 'cluster', `shared configuration read from etcd at revision ${cluster.source.revision}`)];
    const reachable = await Promise.all(
      cluster.etcd.endpoints.map((endpoint) => etcdEndpoint(endpoint, ctx.timeoutMs)),
    );
    return [...source, ...reachable.flat(), ...(await records(ctx)), ...(await redis(ctx))];
  },
};
