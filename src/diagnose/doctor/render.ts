/** The doctor report for people: worst first, each finding with its evidence, cause and fix. */
import type { DoctorFinding, DoctorReport, Severity } from './types.js';

export interface RenderDoctorOptions {
  /** ANSI colours (only for a terminal, and never with NO_COLOR). */
  color?: boolean;
  /** Show the evidence of ok findings too. */
  verbose?: boolean;
}

const RESET = '\u001b[0m';
const BOLD = '\u001b[1m';
const DIM = '\u001b[2m';
const COLOURS: Record<Severity, string> = {
  critical: '\u001b[1;31m',
  warning: '\u001b[33m',
  info: '\u001b[36m',
  ok: '\u001b[32m',
};
const LABEL_WIDTH = 10;

export function renderDoctorReport(report: DoctorReport, options: RenderDoctorOptions = {}): string {
  const color = options.color ?? false;
  const paint = (code: string, text: string): string => (color ? `${code}${text}${RESET}` : text);
  const lines: string[] = [];
  const product = report.source.kind === 'nginx' ? 'nginx' : 'Gatewise';
  const files = report.source.files.length > 1 ? ` (${report.source.files.length} files)` : '';
  lines.push(paint(BOLD, `gatewise doctor: ${product} configuration ${report.source.file}${files}`));
  const upstreams = report.targets.map((target) => `${target.upstream} [${target.servers.join(', ')}]`);
  if (upstreams.length > 0) lines.push(`upstreams: ${upstreams.join('; ')}`);

  const problems = report.findings.filter((found) => found.severity !== 'ok');
  for (const found of problems) {
    lines.push('');
    lines.push(
      `${paint(COLOURS[found.severity], found.severity.toUpperCase().padEnd(LABEL_WIDTH))}${found.check}${found.target ? `  ${found.target}` : ''}`,
    );
    lines.push(`  ${paint(BOLD, found.title)}`);
    lines.push(...details(found, paint));
  }

  const ok = report.findings.filter((found) => found.severity === 'ok');
  if (ok.length > 0) {
    lines.push('', paint(COLOURS.ok, `OK (${ok.length})`));
    for (const found of ok) {
      lines.push(`  ${found.check.padEnd(LABEL_WIDTH)}${found.target ? `${found.target}: ` : ''}${found.title}`);
      if (options.verbose)
        for (const line of found.evidence) lines.push(`  ${' '.repeat(LABEL_WIDTH)}${paint(DIM, line)}`);
    }
  }

  if (report.not_checked.length > 0) {
    lines.push('', paint(BOLD, 'Not checked'));
    for (const entry of report.not_checked) lines.push(`  - ${entry.check}: ${entry.what}: ${entry.why}`);
  }

  if (report.log_analysis !== undefined) {
    lines.push('', paint(BOLD, `Error log ${report.log_analysis.file}`));
    if (report.log_analysis.text)
      lines.push(
        ...report.log_analysis.text
          .trimEnd()
          .split('\n')
          .map((line) => `  ${line}`),
      );
  }

  const { summary } = report;
  const counts = `${summary.critical} critical, ${summary.warning} warning${summary.warning === 1 ? '' : 's'}, ${summary.info} info, ${summary.ok} ok`;
  const verdict =
    report.status === 'healthy'
      ? paint(COLOURS.ok, 'healthy')
      : paint(COLOURS[report.status], report.status === 'critical' ? 'problems found' : 'warnings found');
  const took = report.duration_ms < 1000 ? `${report.duration_ms} ms` : `${(report.duration_ms / 1000).toFixed(1)} s`;
  lines.push('', `${verdict}: ${counts} (${took})`);
  return `${lines.join('\n')}\n`;
}

function details(found: DoctorFinding, paint: (code: string, text: string) => string): string[] {
  const lines: string[] = [];
  const field = (name: string, values: readonly string[]): void => {
    values.forEach((value, index) => {
      lines.push(`  ${(index === 0 ? name : '').padEnd(LABEL_WIDTH)}${value}`);
    });
  };
  if (found.cause) field('cause', [found.cause]);
  field(
    'evidence',
    found.evidence.map((line) => paint(DIM, line)),
  );
  if (found.fix) field('fix', [found.fix]);
  return lines;
}
