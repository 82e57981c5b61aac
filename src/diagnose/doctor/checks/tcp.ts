/**
 * TCP connect to every address of every server: refused, timed out or unreachable, with timing; a
 * refused address is compared with who listens on this host to catch the wrong port.
 */
import type { Failure } from '../../failure.js';
import { type Endpoint, endpointText, formatMs } from '../probes/index.js';
import type { SocketTable } from '../system/sockets.js';
import type { DoctorFinding } from '../types.js';
import {
  type CheckContext,
  configEvidence,
  type DoctorCheck,
  finding,
  formatSeconds,
  runParallel,
  type ServerJob,
  serverJobs,
} from './shared.js';
import { listenerText, ownerText, tcpAlternatives } from './wrong-address.js';

const MAX_ALTERNATIVES_SHOWN = 5;

function ownerOf(table: SocketTable, endpoint: Endpoint): string | undefined {
  if (endpoint.kind !== 'tcp') return undefined;
  const listener = table.tcp.find(
    (entry) =>
      entry.port === endpoint.port &&
      (entry.address === endpoint.address || entry.address === '0.0.0.0' || entry.address === '::'),
  );
  return listener ? ownerText(listener) : undefined;
}

function refused(
  ctx: CheckContext,
  job: ServerJob,
  endpoint: Endpoint & { kind: 'tcp' },
  failure: Failure,
  ms: number,
): DoctorFinding {
  const evidence = [...configEvidence(job), `${failure.detail} after ${formatMs(ms)}`];
  const table = ctx.sockets();
  const { likely, others } = tcpAlternatives(ctx.model, table, endpoint.address, endpoint.port);
  const place = endpointText(endpoint);
  const severity = job.server.backup ? 'warning' : 'critical';
  const shown = others.slice(0, MAX_ALTERNATIVES_SHOWN);
  for (const other of shown) evidence.push(`listening: ${listenerText(other)} ${ownerText(other)}`);
  if (others.length > shown.length) evidence.push(`and ${others.length - shown.length} more listeners`);
  if (likely === undefined) {
    if (others.length === 0 && table.missing.length === 0)
      evidence.push('no other process on this host listens on a port the configuration does not already use');
    return finding(severity, 'tcp', `nothing listens on ${place}`, {
      target: job.label,
      evidence,
      cause: failure.cause,
      fix: `start the backend of ${job.target.upstream}, or fix the address if it listens elsewhere${others.length > 0 ? ' (one of the listeners above?)' : ''}`,
    });
  }
  const samePort = likely.port === endpoint.port;
  return finding(
    severity,
    'tcp',
    `nothing listens on ${place}, but ${ownerText(likely)} listens on ${listenerText(likely)}`,
    {
      target: job.label,
      evidence,
      cause: 'wrong_upstream_address',
      fix: samePort
        ? `the backend is bound to ${likely.address}, not ${endpoint.address}: make it listen on ${endpoint.address} (or 0.0.0.0), or point the server at ${listenerText(likely)}`
        : `if ${ownerText(likely)} is the backend of ${job.target.upstream}, point the server at port ${likely.port} (${listenerText(likely)}); otherwise start the backend on ${endpoint.port}`,
    },
  );
}

async function checkServer(ctx: CheckContext, job: ServerJob): Promise<DoctorFinding[]> {
  if (job.server.kind !== 'tcp') return [];
  const endpoints = await ctx.probes.endpoints(job.server, job.target.upstream);
  const findings: DoctorFinding[] = [];
  for (const endpoint of endpoints) {
    if (endpoint.kind !== 'tcp') continue;
    const result = await ctx.probes.connect(endpoint, job.target.upstream);
    const place = endpointText(endpoint);
    if (result.ok) {
      const owner = ownerOf(ctx.sockets(), endpoint);
      const slow = result.ms > job.target.connectTimeoutMs / 2;
      findings.push(
        finding(
          slow ? 'warning' : 'ok',
          'tcp',
          `connect to ${place} took ${formatMs(result.ms)}${owner ? `; ${owner} listens` : ''}`,
          {
            target: job.label,
            evidence: slow
              ? [
                  ...configEvidence(job),
                  `${job.target.settings.connect} is ${formatSeconds(job.target.connectTimeoutMs)}`,
                ]
              : [],
            ...(slow ? { cause: 'overload_or_exhaustion' as const } : {}),
          },
        ),
      );
      continue;
    }
    const failure = result.failure!;
    if (failure.type === 'connection_refused' && failure.cause === 'backend_down') {
      findings.push(refused(ctx, job, endpoint, failure, result.ms));
      continue;
    }
    const timedOut = failure.type === 'connection_timeout';
    const title = timedOut
      ? `connect to ${place} did not complete in ${formatMs(ctx.timeoutMs)}`
      : `connect to ${place} failed: ${failure.code}`;
    findings.push(
      finding(job.server.backup ? 'warning' : 'critical', 'tcp', title, {
        target: job.label,
        evidence: [
          ...configEvidence(job),
          `${failure.detail} after ${formatMs(result.ms)}`,
          ...(timedOut ? [`${job.target.settings.connect} is ${formatSeconds(job.target.connectTimeoutMs)}`] : []),
        ],
        cause: failure.cause,
      }),
    );
  }
  return findings;
}

export const tcpCheck: DoctorCheck = {
  name: 'tcp',
  description: 'TCP connect to every server address (refused, timeout, unreachable) and the wrong-port hint',
  run: (ctx) => runParallel(serverJobs(ctx.model), (job) => checkServer(ctx, job)),
};
