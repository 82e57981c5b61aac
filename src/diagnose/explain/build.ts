/**
 * Turns a recogniser's finding into an explanation. A finding that names a code goes through
 * Gatewise's own classification table (`matchRule`), so a refused connection is the same error type
 * and cause whether nginx, Envoy, Node.js or Gatewise reported it: one classifier, not two.
 */
import { matchRule } from '../classify.js';
import type { Phase } from '../failure.js';
import type { ErrorType, RootCause } from '../taxonomy.js';
import { checksFor } from './checks.js';
import { parseTarget, upstreamLabel } from './target.js';
import type { Explanation, Finding, RankedCause } from './types.js';

/** A TLS alert record header (content type 21, version 3.x): what a TLS server answers plain HTTP with. */
const TLS_RECORD = Buffer.from([0x15, 0x03, 0x01]);

/** The error type and cause the classification table gives a code in a phase; undefined when no row knows it. */
export function classifyCode(
  code: string,
  phase: Phase,
  facts: { unixPath?: boolean; tlsBytes?: boolean; syscall?: string; reused?: boolean } = {},
): { type: ErrorType; cause: RootCause } | undefined {
  const error: { code: string; syscall?: string } = { code };
  if (facts.syscall !== undefined) error.syscall = facts.syscall;
  const rule = matchRule(error, {
    phase,
    upstream: '',
    server: '',
    attempt: 1,
    reused: facts.reused === true,
    unixPath: facts.unixPath === true,
    ...(facts.tlsBytes === true ? { firstBytes: TLS_RECORD } : {}),
  });
  return rule === undefined ? undefined : { type: rule.type, cause: rule.cause };
}

export function explanationOf(finding: Finding, line: string): Explanation {
  const decided =
    finding.code === undefined
      ? undefined
      : classifyCode(finding.code, finding.phase ?? 'internal', {
          ...(finding.unixPath !== undefined ? { unixPath: finding.unixPath } : {}),
          ...(finding.tlsBytes !== undefined ? { tlsBytes: finding.tlsBytes } : {}),
          ...(finding.syscall !== undefined ? { syscall: finding.syscall } : {}),
        });
  const error = finding.error !== undefined ? finding.error : (decided?.type ?? null);
  const cause = finding.cause ?? decided?.cause ?? 'other';
  const causes = ranked([{ cause, why: finding.why }, ...(finding.also ?? [])]);
  const target = parseTarget(finding.target ?? finding.upstream);
  const checks = [
    ...(finding.checks ?? []),
    ...checksFor(
      causes.map((c) => c.cause),
      target,
      finding.source,
    ),
  ];
  const explanation: Explanation = {
    source: finding.source,
    error,
    causes,
    summary: finding.summary,
    checks,
    confidence: finding.confidence,
    line,
  };
  if (finding.time !== undefined) explanation.time = finding.time;
  if (finding.upstream !== undefined && finding.upstream !== '' && finding.upstream !== '-')
    explanation.upstream = upstreamLabel(finding.upstream);
  if (finding.phase !== undefined) explanation.phase = finding.phase;
  return explanation;
}

/** Each cause once, first mention wins. */
function ranked(causes: readonly RankedCause[]): RankedCause[] {
  const seen = new Set<RootCause>();
  const out: RankedCause[] = [];
  for (const entry of causes) {
    if (seen.has(entry.cause)) continue;
    seen.add(entry.cause);
    out.push(entry);
  }
  return out;
}
