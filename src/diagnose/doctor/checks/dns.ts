/**
 * Host names of upstream servers: do they resolve (as the gateway resolves them), do the configured
 * resolvers answer, and does nginx pin an address it resolved once at start-up.
 */
import { isIP } from 'node:net';
import { isLoopbackHost } from '../../../config/index.js';
import { formatMs } from '../probes/index.js';
import type { DoctorFinding } from '../types.js';
import {
  type CheckContext,
  configEvidence,
  type DoctorCheck,
  finding,
  runParallel,
  type ServerJob,
  serverJobs,
} from './shared.js';

/** Answers that live at least this long (seconds) are taken as stable addresses. */
const STABLE_TTL_S = 3600;

async function checkServer(ctx: CheckContext, job: ServerJob): Promise<DoctorFinding[]> {
  const { server, target } = job;
  if (server.kind !== 'tcp' || isIP(server.host) !== 0) return [];
  const found = await ctx.probes.lookup(server.host, target.upstream);
  const evidence = configEvidence(job);
  if (!found.ok) {
    const failure = found.failure;
    return [
      finding('critical', 'dns', `${server.host} does not resolve`, {
        target: job.label,
        evidence: [...evidence, `${failure?.detail ?? 'no addresses'} after ${formatMs(found.ms)}`],
        cause: 'dns',
        fix: `check the name for typos and that this host's resolver knows it (getent hosts ${server.host})`,
      }),
    ];
  }
  const addresses = found.addresses.map((entry) => entry.address);
  const findings: DoctorFinding[] = [
    finding('ok', 'dns', `${server.host} resolves to ${addresses.join(', ')}`, {
      target: job.label,
      evidence: [`getaddrinfo answered in ${formatMs(found.ms)}`],
    }),
  ];
  // Names pinned at start-up went through the system resolver; `resolver` serves run-time lookups only.
  const runtimeResolvers = target.resolvedAtStartup ? [] : target.resolvers;
  for (const resolver of runtimeResolvers) {
    const answer = await ctx.probes.ttl(server.host, resolver);
    if (answer.addresses.length > 0) continue;
    findings.push(
      finding('critical', 'dns', `resolver ${resolver} gives no address for ${server.host}`, {
        target: job.label,
        evidence: [...evidence, `${target.settings.resolver} ${resolver}: ${answer.code ?? 'no answer'}`],
        cause: 'dns',
        fix: `make sure ${resolver} answers for ${server.host} (dig @${resolver.replace(/:\d+$/, '')} ${server.host}); nginx's resolver does not read /etc/hosts`,
      }),
    );
  }
  if (target.resolvedAtStartup && !addresses.every(isLoopbackHost))
    findings.push(await startupRisk(ctx, job, addresses));
  return findings;
}

/** nginx resolves a host name in `server` or a literal proxy_pass once, when it starts, and keeps that address. */
async function startupRisk(ctx: CheckContext, job: ServerJob, addresses: string[]): Promise<DoctorFinding> {
  const host = job.server.kind === 'tcp' ? job.server.host : '';
  const answer = await ctx.probes.ttl(host);
  const changing = answer.ttlS !== undefined && answer.ttlS < STABLE_TTL_S;
  const evidence = [
    ...configEvidence(job),
    answer.ttlS === undefined
      ? `DNS answer: none (resolved through /etc/hosts or similar: ${addresses.join(', ')})`
      : `DNS answer: ${answer.addresses.join(', ')} with TTL ${answer.ttlS} s`,
  ];
  return finding(
    changing ? 'warning' : 'info',
    'dns',
    `nginx resolves ${host} only at start-up and keeps that address until it is reloaded`,
    {
      target: job.label,
      evidence,
      cause: 'dns',
      fix: `when ${host} moves (containers, cloud load balancers), reload nginx; or resolve at run time: "resolver" plus a variable in proxy_pass, or "server ${host} resolve;" with a zone (nginx 1.27.3+)`,
    },
  );
}

export const dnsCheck: DoctorCheck = {
  name: 'dns',
  description: 'upstream host names resolve; configured resolvers answer; addresses pinned at start-up',
  run: (ctx) => runParallel(serverJobs(ctx.model), (job) => checkServer(ctx, job)),
};
