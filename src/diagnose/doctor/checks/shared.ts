/** What every check gets to work with, and the small helpers they share. */
import { ROOT_CAUSES, type RootCause } from '../../taxonomy.js';
import {
  type DoctorModel,
  type DoctorTarget,
  type ServerAddress,
  serverText,
  targetLabel,
  whereText,
} from '../model.js';
import type { Endpoint, HttpProbeOptions, ProbeSet } from '../probes/index.js';
import type { SocketTable } from '../system/sockets.js';
import type { DoctorFinding, Severity } from '../types.js';

export interface CheckContext {
  readonly model: DoctorModel;
  readonly probes: ProbeSet;
  readonly timeoutMs: number;
  /** Where /proc and /sys are read from ('/' outside tests). */
  readonly root: string;
  /** The listening sockets and their owners, read once. */
  sockets(): SocketTable;
  /** The keepalive check runs: the health request then watches its idle connection. */
  readonly watchIdle: boolean;
  /** Records something that could not be checked, and why. */
  skip(check: string, what: string, why: string): void;
}

/** One family of checks: a row of the registry in checks/index.ts. */
export interface DoctorCheck {
  readonly name: string;
  readonly description: string;
  run(ctx: CheckContext): Promise<DoctorFinding[]>;
}

export interface FindingDetails {
  target?: string;
  evidence?: readonly string[];
  cause?: RootCause;
  fix?: string;
}

/** A finding; without a specific fix, the cause's hint is the fix. */
export function finding(severity: Severity, check: string, title: string, details: FindingDetails = {}): DoctorFinding {
  const result: DoctorFinding = { severity, check, title, evidence: [...(details.evidence ?? [])] };
  if (details.target !== undefined) result.target = details.target;
  if (details.cause !== undefined) result.cause = details.cause;
  const fix = details.fix ?? (details.cause !== undefined ? ROOT_CAUSES[details.cause].hint : undefined);
  if (fix !== undefined) result.fix = fix;
  return result;
}

export interface ServerJob {
  target: DoctorTarget;
  server: ServerAddress;
  label: string;
}

/** Every server of every target that doctor can probe (not behind a run-time variable, not marked down). */
export function serverJobs(model: DoctorModel): ServerJob[] {
  const jobs: ServerJob[] = [];
  for (const target of model.targets) {
    if (target.dynamic !== undefined) continue;
    for (const server of target.servers) {
      if (!server.down) jobs.push({ target, server, label: targetLabel(target, server) });
    }
  }
  return jobs;
}

/** "server 127.0.0.1:5000; (/etc/nginx/conf.d/app.conf:4)" and where it is used. */
export function configEvidence(job: ServerJob): string[] {
  const lines = [`${whereText(job.server.where)}: ${job.server.text}`];
  const used = job.target.usedBy.slice(0, 2).map((place) => `used by ${place}`);
  return [...lines, ...used];
}

export function runParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R[]>): Promise<R[]> {
  return Promise.all(items.map(work)).then((lists) => lists.flat());
}

export function formatSeconds(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024}m`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}k`;
  return `${bytes} bytes`;
}

const MIN_HEAD_READ_BYTES = 64 * 1024;
const MAX_HEAD_READ_BYTES = 1024 * 1024;

/**
 * The one health request per target and endpoint that the http, tls and keepalive checks share
 * (the probe set makes it once). It waits no longer than the gateway would (the read timeout),
 * nor than doctor's own limit.
 */
export function healthRequest(ctx: CheckContext, target: DoctorTarget, server: ServerAddress): HttpProbeOptions {
  const limit = target.maxResponseHeaderBytes;
  return {
    tls: server.tls ? { sni: server.tls.sni } : undefined,
    path: target.healthPath,
    hostHeader: server.kind === 'unix' ? 'localhost' : serverText(server),
    waitMs: Math.min(ctx.timeoutMs, target.readTimeoutMs),
    maxHeadBytes: Math.min(MAX_HEAD_READ_BYTES, Math.max(MIN_HEAD_READ_BYTES, limit * 2)),
    idleWatchMs: ctx.watchIdle && target.keepalive ? Math.min(ctx.timeoutMs, target.keepaliveIdleMs) : 0,
  };
}

/** Endpoints of a server whose TCP (or unix) connect succeeded; failures are the tcp and unix checks' to report. */
export async function connectedEndpoints(ctx: CheckContext, job: ServerJob): Promise<Endpoint[]> {
  const endpoints = await ctx.probes.endpoints(job.server, job.target.upstream);
  const results = await Promise.all(endpoints.map((endpoint) => ctx.probes.connect(endpoint, job.target.upstream)));
  return endpoints.filter((_, index) => results[index]!.ok);
}
