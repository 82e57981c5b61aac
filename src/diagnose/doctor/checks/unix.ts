/**
 * Unix socket servers: does the file exist and is it a socket, may the gateway's user connect to it,
 * and does a process listen on it (a socket file left by a crashed backend refuses connections).
 */
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { formatMs } from '../probes/index.js';
import { describe, lookupUser, socketAccessProblem } from '../system/users.js';
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
import { ownerText, unixAlternatives } from './wrong-address.js';

/** The user the gateway's workers run as: nginx's `user` (default nobody), else whoever runs doctor. */
function gatewayUser(ctx: CheckContext): string {
  if (ctx.model.user !== undefined) return ctx.model.user;
  if (ctx.model.kind === 'nginx' && process.getuid?.() === 0) return 'nobody';
  return userInfo().username;
}

async function checkServer(ctx: CheckContext, job: ServerJob): Promise<DoctorFinding[]> {
  if (job.server.kind !== 'unix') return [];
  const path = job.server.path;
  const evidence = configEvidence(job);
  const severity = job.server.backup ? 'warning' : 'critical';
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    if (code === 'EACCES') {
      ctx.skip('unix', path, `doctor's user may not look into a folder above it (${code})`);
      return [];
    }
    const others = unixAlternatives(ctx.sockets(), path);
    for (const other of others.slice(0, 5)) evidence.push(`listening: ${other.path} ${ownerText(other)}`);
    const best = others[0];
    return [
      finding(
        severity,
        'unix',
        best
          ? `no socket at ${path}, but ${ownerText(best)} listens on ${best.path}`
          : `no socket at ${path} (${code})`,
        {
          target: job.label,
          evidence: [...evidence, `stat(${path}): ${code}`],
          cause: 'wrong_upstream_address',
          fix: best
            ? `point the server at unix:${best.path} if that is the backend, or make the backend create ${path}`
            : `start the backend that creates ${path} (check its socket path setting), or fix the path in the configuration`,
        },
      ),
    ];
  }
  if (!stats.isSocket())
    return [
      finding(severity, 'unix', `${path} is not a socket`, {
        target: job.label,
        evidence: [...evidence, `${path}: ${stats.isDirectory() ? 'a folder' : 'a regular file'}, ${describe(stats)}`],
        cause: 'wrong_upstream_address',
        fix: `point the server at the socket the backend creates; ${path} is something else`,
      }),
    ];
  const findings: DoctorFinding[] = [];
  const userName = gatewayUser(ctx);
  const user = lookupUser(userName);
  if (user === undefined) ctx.skip('unix', `permissions of ${path}`, `user "${userName}" is not in /etc/passwd`);
  else {
    const problem = socketAccessProblem(path, user);
    if (problem !== undefined)
      findings.push(
        finding(severity, 'unix', `${user.name} may not connect to ${path}`, {
          target: job.label,
          evidence: [...evidence, problem],
          cause: 'permission_or_selinux',
          fix: `give the socket a group ${user.name} belongs to and mode 0660 (php-fpm: listen.owner / listen.group / listen.mode), or run the gateway as a user allowed to connect`,
        }),
      );
  }
  const result = await ctx.probes.connect({ kind: 'unix', path }, job.target.upstream);
  if (result.ok) {
    const listener = ctx.sockets().unix.find((entry) => entry.path === path);
    findings.push(
      finding(
        'ok',
        'unix',
        `connect to ${path} took ${formatMs(result.ms)}${listener ? `; ${ownerText(listener)} listens` : ''}`,
        {
          target: job.label,
        },
      ),
    );
    return findings;
  }
  const failure = result.failure!;
  const stale = failure.code === 'ECONNREFUSED';
  findings.push(
    finding(
      severity,
      'unix',
      stale ? `${path} exists but no process listens on it` : `connect to ${path} failed: ${failure.code}`,
      {
        target: job.label,
        evidence: [...evidence, `${failure.detail} after ${formatMs(result.ms)}`, `${path}: ${describe(stats)}`],
        cause: failure.cause,
        ...(stale
          ? {
              fix: 'the socket file was left behind by a backend that stopped or crashed: start the backend (it recreates the socket)',
            }
          : {}),
      },
    ),
  );
  return findings;
}

export const unixCheck: DoctorCheck = {
  name: 'unix',
  description:
    'unix socket servers: the file exists, is a socket, is reachable by the gateway user, and has a listener',
  run: (ctx) => runParallel(serverJobs(ctx.model), (job) => checkServer(ctx, job)),
};
