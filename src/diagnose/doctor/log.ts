/**
 * Doctor's error-log analyser: every line of the log through `explain` (nginx, Gatewise or any format
 * it reads), failures grouped by error type, cause and upstream, each group a finding ranked with the
 * probes' findings, and the grouped table with its per-minute histogram as the report's section.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { analyzeLog, type LogGroup } from '../log-analysis.js';
import { renderLogAnalysis } from '../log-render.js';
import type { DoctorFinding, LogAnalyzer } from './types.js';

/** A group this large is a critical finding; a smaller one a warning (a handful of failures is news, not an outage). */
const CRITICAL_COUNT = 10;

function findingOf(group: LogGroup): DoctorFinding {
  const where = group.upstream === '' ? '' : ` (upstream ${group.upstream})`;
  const seen =
    group.firstSeen !== undefined
      ? `first seen ${group.firstSeen}, last seen ${group.lastSeen ?? group.firstSeen}`
      : 'the lines carry no time';
  const check = group.example.checks[0];
  return {
    severity: group.count >= CRITICAL_COUNT ? 'critical' : 'warning',
    check: 'log',
    ...(group.upstream === '' ? {} : { target: group.upstream }),
    title: `${group.count} × ${group.error}${where} in the error log: ${group.example.summary}`,
    evidence: [seen, `e.g. ${group.example.line.slice(0, 300)}`],
    cause: group.cause,
    ...(check !== undefined ? { fix: check.command ? `${check.what}: ${check.command}` : check.what } : {}),
  };
}

export const defaultLogAnalyzer: LogAnalyzer = async (file) => {
  const stream = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  const analysis = await analyzeLog(createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }));
  return {
    file,
    findings: analysis.groups.map(findingOf),
    text: renderLogAnalysis(analysis, { color: false }),
    data: analysis,
  };
};
