/**
 * The keep-alive race: a gateway that keeps an idle upstream connection longer than the backend
 * does will, now and then, send a request just as the backend closes it, and answer 502. The
 * backend's idle timeout is read from its `Keep-Alive: timeout=N` (RFC 9112 §9.3 leaves it to the
 * server; the header is the common hint) or seen: after the health request the connection is left
 * idle and doctor notes when the backend closes it.
 */
import { endpointText, formatMs, type HttpResult } from '../probes/index.js';
import type { DoctorFinding } from '../types.js';
import {
  type CheckContext,
  configEvidence,
  connectedEndpoints,
  type DoctorCheck,
  finding,
  formatSeconds,
  healthRequest,
  runParallel,
  type ServerJob,
  serverJobs,
} from './shared.js';

function backendIdle(answer: HttpResult): { ms: number; how: string } | undefined {
  if (answer.keepAliveTimeoutS !== undefined)
    return { ms: answer.keepAliveTimeoutS * 1000, how: `advertises "Keep-Alive: timeout=${answer.keepAliveTimeoutS}"` };
  if (answer.idleCloseMs !== undefined)
    return { ms: answer.idleCloseMs, how: `closed the idle connection after ${formatMs(answer.idleCloseMs)}` };
  return undefined;
}

/** About half the backend's timeout, in whole seconds when that is at least one. */
function suggestion(backendMs: number): number {
  return backendMs >= 2000 ? Math.floor(backendMs / 2000) * 1000 : Math.floor(backendMs / 2);
}

async function checkServer(ctx: CheckContext, job: ServerJob): Promise<DoctorFinding[]> {
  const { target } = job;
  if (target.protocol !== 'http' || !target.keepalive) return [];
  const endpoints = await connectedEndpoints(ctx, job);
  const findings: DoctorFinding[] = [];
  const gateway = `${target.settings.keepaliveIdle} is ${formatSeconds(target.keepaliveIdleMs)}`;
  for (const endpoint of endpoints) {
    const answer = await ctx.probes.http(endpoint, healthRequest(ctx, target, job.server));
    if (answer.outcome !== 'response') continue;
    const place = endpointText(endpoint);
    if (answer.closes) {
      findings.push(
        finding('ok', 'keepalive', `${place} closes the connection after each response: nothing to race`, {
          target: job.label,
        }),
      );
      continue;
    }
    const idle = backendIdle(answer);
    if (idle === undefined) {
      const watched = answer.idleWatchedMs;
      findings.push(
        finding('info', 'keepalive', `${place} does not say how long it keeps idle connections`, {
          target: job.label,
          evidence: [
            gateway,
            watched === undefined
              ? 'the idle connection was not watched'
              : `it kept an idle connection open for at least ${formatMs(watched)}`,
          ],
          fix: `make sure the backend's keep-alive timeout is longer than ${formatSeconds(target.keepaliveIdleMs)}`,
        }),
      );
      continue;
    }
    const evidence = [...configEvidence(job), `${place} ${idle.how}`, gateway];
    if (target.honoursKeepAliveHint && answer.keepAliveTimeoutS !== undefined) {
      findings.push(
        finding(
          'ok',
          'keepalive',
          `${place} keeps idle connections ${formatSeconds(idle.ms)}; Gatewise closes them a second earlier`,
          {
            target: job.label,
            evidence: [`${place} ${idle.how}`, gateway],
          },
        ),
      );
      continue;
    }
    if (target.keepaliveIdleMs >= idle.ms) {
      const product = ctx.model.kind === 'nginx' ? 'nginx' : 'Gatewise';
      findings.push(
        finding('warning', 'keepalive', `${product} keeps idle connections to ${place} longer than the backend does`, {
          target: job.label,
          evidence,
          cause: 'keepalive_mismatch',
          fix: `set ${target.settings.keepaliveIdle} below ${formatSeconds(idle.ms)} (e.g. ${formatSeconds(suggestion(idle.ms))}), or raise the backend's keep-alive timeout above ${formatSeconds(target.keepaliveIdleMs)} (Node: server.keepAliveTimeout)`,
        }),
      );
      continue;
    }
    findings.push(
      finding(
        'ok',
        'keepalive',
        `${place} keeps idle connections ${formatSeconds(idle.ms)}, longer than the gateway's ${formatSeconds(target.keepaliveIdleMs)}`,
        {
          target: job.label,
          evidence: [`${place} ${idle.how}`, gateway],
        },
      ),
    );
  }
  return findings;
}

export const keepaliveCheck: DoctorCheck = {
  name: 'keepalive',
  description: "the backend's keep-alive timeout against the gateway's upstream idle timeout (the keep-alive race)",
  run: (ctx) => runParallel(serverJobs(ctx.model), (job) => checkServer(ctx, job)),
};
