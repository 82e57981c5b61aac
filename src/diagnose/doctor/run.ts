/**
 * `runDoctor`: reads the configuration into the neutral model, runs every check family in parallel
 * (probes bounded by the probe set), adds the error-log analysis when one is plugged in, and ranks
 * the findings critical → ok in a report whose JSON shape is stable.
 */
import { performance } from 'node:perf_hooks';
import { GatewayError } from '../../errors.js';
import { type CheckContext, DOCTOR_CHECKS } from './checks/index.js';
import { isNodeFile, loadClusterModel } from './cluster-model.js';
import { loadGatewiseModel } from './gatewise-model.js';
import { defaultLogAnalyzer } from './log.js';
import { type DoctorModel, serverText } from './model.js';
import { loadNginxModel } from './nginx/model.js';
import { ProbeSet } from './probes/index.js';
import { readSocketTable, type SocketTable } from './system/sockets.js';
import {
  type DoctorFinding,
  type DoctorOptions,
  type DoctorReport,
  type LogAnalysis,
  type NotChecked,
  SEVERITIES,
  type Severity,
} from './types.js';

export const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_CONCURRENCY = 16;

/** doctor was asked something it cannot do (no configuration, two of them, an unknown check). */
export class DoctorUsageError extends GatewayError {
  constructor(message: string) {
    super('GW_DOCTOR_USAGE', message);
  }
}

export async function loadDoctorModel(options: DoctorOptions): Promise<DoctorModel> {
  if (options.config !== undefined && options.nginx !== undefined)
    throw new DoctorUsageError('give either a Gatewise configuration or an nginx configuration, not both');
  if (options.nginx !== undefined) return loadNginxModel(options.nginx, options.healthPath);
  if (options.config !== undefined) {
    if (await isNodeFile(options.config))
      return loadClusterModel(options.config, options.healthPath, (message) => new DoctorUsageError(message));
    return loadGatewiseModel(options.config, options.healthPath);
  }
  throw new DoctorUsageError('no configuration to examine: give a Gatewise configuration or an nginx configuration');
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const started = performance.now();
  const model = await loadDoctorModel(options);
  return examine(model, options, started);
}

/** Runs the checks on a model already read (the CLI reads it first to tell unreadable configurations apart). */
export async function examine(
  model: DoctorModel,
  options: DoctorOptions,
  started = performance.now(),
): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const checks = selectChecks(options.checks);
  const notChecked: NotChecked[] = [];
  let sockets: SocketTable | undefined;
  const root = options.root ?? '/';
  const ctx: CheckContext = {
    model,
    probes: new ProbeSet(timeoutMs, options.concurrency ?? DEFAULT_CONCURRENCY),
    timeoutMs,
    root,
    watchIdle: checks.some((check) => check.name === 'keepalive'),
    sockets: () => (sockets ??= readSocketTable(root)),
    skip: (check, what, why) => notChecked.push({ check, what, why }),
  };
  const results = await Promise.all(
    checks.map((check) =>
      check.run(ctx).catch((error: unknown): DoctorFinding[] => {
        // A check that breaks must not hide the others; what it could not do is reported.
        ctx.skip(
          check.name,
          'everything in this check',
          `it failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        return [];
      }),
    ),
  );
  const findings = results.flat();
  const log = await analyseLog(model, options, timeoutMs, notChecked);
  if (log) findings.push(...log.findings);
  return buildReport(model, findings, notChecked, log, performance.now() - started);
}

function selectChecks(names: readonly string[] | undefined): typeof DOCTOR_CHECKS {
  if (names === undefined) return DOCTOR_CHECKS;
  const known = DOCTOR_CHECKS.map((check) => check.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new DoctorUsageError(`unknown check ${unknown.join(', ')} (checks: ${known.join(', ')})`);
  return DOCTOR_CHECKS.filter((check) => names.includes(check.name));
}

async function analyseLog(
  model: DoctorModel,
  options: DoctorOptions,
  timeoutMs: number,
  notChecked: NotChecked[],
): Promise<LogAnalysis | undefined> {
  if (options.errorLog === undefined) {
    const named = model.errorLogs[0];
    if (named !== undefined)
      notChecked.push({
        check: 'log',
        what: 'the error log',
        why: `not asked for; the configuration writes errors to ${named} (add --error-log ${named})`,
      });
    return undefined;
  }
  const analyze = options.analyzeLog ?? defaultLogAnalyzer;
  try {
    const analysis = await analyze(options.errorLog, { model, timeoutMs });
    notChecked.push(...(analysis.notChecked ?? []));
    return analysis;
  } catch (error) {
    notChecked.push({
      check: 'log',
      what: options.errorLog,
      why: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

const CHECK_ORDER = [...DOCTOR_CHECKS.map((check) => check.name), 'log'];

function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

function checkRank(check: string): number {
  const index = CHECK_ORDER.indexOf(check);
  return index === -1 ? CHECK_ORDER.length : index;
}

/** The same finding reached through several uses of one upstream becomes one, with all the evidence. */
function merge(findings: readonly DoctorFinding[]): DoctorFinding[] {
  const byKey = new Map<string, DoctorFinding>();
  for (const found of findings) {
    const key = `${found.severity}|${found.check}|${found.target ?? ''}|${found.title}`;
    const kept = byKey.get(key);
    if (kept === undefined) byKey.set(key, { ...found, evidence: [...new Set(found.evidence)] });
    else for (const line of found.evidence) if (!kept.evidence.includes(line)) kept.evidence.push(line);
  }
  return [...byKey.values()];
}

export function sortFindings(findings: readonly DoctorFinding[]): DoctorFinding[] {
  return [...findings].sort(
    (a, b) =>
      rank(a.severity) - rank(b.severity) ||
      checkRank(a.check) - checkRank(b.check) ||
      (a.target ?? '').localeCompare(b.target ?? '') ||
      a.title.localeCompare(b.title),
  );
}

function buildReport(
  model: DoctorModel,
  findings: readonly DoctorFinding[],
  notChecked: NotChecked[],
  log: LogAnalysis | undefined,
  durationMs: number,
): DoctorReport {
  const ranked = sortFindings(merge(findings));
  const summary = { critical: 0, warning: 0, info: 0, ok: 0 } satisfies Record<Severity, number>;
  for (const found of ranked) summary[found.severity]++;
  const status = summary.critical > 0 ? 'critical' : summary.warning > 0 ? 'warning' : 'healthy';
  const seen = new Set<string>();
  const report: DoctorReport = {
    version: 1,
    source: { kind: model.kind, file: model.file, files: model.files },
    status,
    summary,
    targets: targetSummaries(model),
    findings: ranked,
    not_checked: notChecked.filter((entry) => {
      const key = `${entry.check}|${entry.what}|${entry.why}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
    duration_ms: Math.round(durationMs),
  };
  if (log !== undefined) {
    report.log_analysis = { file: log.file };
    if (log.text !== undefined) report.log_analysis.text = log.text;
    if (log.data !== undefined) report.log_analysis.data = log.data;
  }
  return report;
}

/** One entry per upstream and protocol, with every place that uses it. */
function targetSummaries(model: DoctorModel): DoctorReport['targets'] {
  const byKey = new Map<string, DoctorReport['targets'][number]>();
  for (const target of model.targets) {
    const key = `${target.upstream}|${target.protocol}|${target.servers.map(serverText).join(',')}`;
    const kept = byKey.get(key);
    if (kept) kept.used_by.push(...target.usedBy.filter((place) => !kept.used_by.includes(place)));
    else
      byKey.set(key, {
        upstream: target.upstream,
        protocol: target.protocol,
        servers: target.servers.map(serverText),
        used_by: [...target.usedBy],
      });
  }
  return [...byKey.values()];
}

/** 0 healthy, 1 when anything is at warning or above (2, cannot run, is the CLI's). */
export function doctorExitCode(report: DoctorReport): 0 | 1 {
  return report.status === 'healthy' ? 0 : 1;
}
