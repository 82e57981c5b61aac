/**
 * Drill reports: a summary table for the terminal, and a self-contained HTML page (no external asset)
 * with one timeline per scenario — requests per bucket, errors by root cause, and the marks: fault
 * injected, detection, alert fired and resolved, fault removed, recovered.
 */
import type { ScenarioResult, TimelineMark } from './runner.js';

const RESET = '\u001b[0m';
const RED = '\u001b[31m';
const GREEN = '\u001b[32m';
const DIM = '\u001b[2m';

function ms(value: number | null): string {
  if (value === null) return '-';
  return value >= 1000 ? `${(value / 1000).toFixed(1)}s` : `${Math.round(value)}ms`;
}

/** One line per scenario, then every failed check with its detail. */
export function renderSummary(results: readonly ScenarioResult[], color: boolean): string {
  const paint = (c: string, text: string) => (color ? `${c}${text}${RESET}` : text);
  const header = ['scenario', 'result', 'requests', 'client errors', 'detect', 'alert', 'recover'];
  const rows = results.map((r) => [
    r.name,
    r.passed ? 'PASS' : 'FAIL',
    String(r.requests),
    String(r.clientErrors),
    ms(r.detectMs),
    r.alertFiredMs === null ? '-' : `${ms(r.alertFiredMs)} / ${ms(r.alertResolvedMs)}`,
    ms(r.recoverMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], tint = false) =>
    cells
      .map((cell, i) => {
        const padded = i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
        return tint && i === 1 ? paint(cell === 'PASS' ? GREEN : RED, padded) : padded;
      })
      .join('  ');
  const out = [line(header), ...rows.map((row) => line(row, true))];
  for (const r of results) {
    for (const check of r.checks.filter((c) => !c.ok))
      out.push(paint(RED, `${r.name}: ${check.name}: ${check.detail}`));
  }
  const failed = results.filter((r) => !r.passed).length;
  out.push(
    '',
    failed === 0
      ? paint(GREEN, `all ${results.length} drills passed`)
      : paint(RED, `${failed} of ${results.length} drills failed`),
  );
  out.push(paint(DIM, '(alert: fired after injection / resolved after removal)'));
  return `${out.join('\n')}\n`;
}

/** The checks of one scenario, for the live progress. */
export function renderChecks(result: ScenarioResult, color: boolean): string {
  const paint = (c: string, text: string) => (color ? `${c}${text}${RESET}` : text);
  return `${result.checks
    .map((c) => `  ${c.ok ? paint(GREEN, 'ok  ') : paint(RED, 'FAIL')} ${c.name}: ${c.detail}`)
    .join('\n')}\n`;
}

const CAUSE_COLORS = ['#f85149', '#d29922', '#a371f7', '#db61a2', '#ff7b72', '#e3b341', '#79c0ff', '#56d364'];
const MARK_COLORS: Record<TimelineMark['kind'], string> = {
  fault: '#f85149',
  detect: '#d29922',
  alert: '#a371f7',
  removed: '#56d364',
  recovered: '#79c0ff',
  event: '#6e7681',
};

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function timelineSvg(result: ScenarioResult): string {
  const { buckets, bucketMs, durationMs, marks } = result.timeline;
  const width = 900;
  const height = 200;
  const top = 10;
  const bottom = 150;
  const scaleX = width / Math.max(durationMs, 1);
  const causes = [...new Set(buckets.flatMap((b) => Object.keys(b.byCause)))];
  const maxCount = Math.max(
    1,
    ...buckets.map((b) =>
      Math.max(
        b.ok + b.errors,
        Object.values(b.byCause).reduce((a, n) => a + n, 0),
      ),
    ),
  );
  const scaleY = (bottom - top) / maxCount;
  const barWidth = Math.max(1, bucketMs * scaleX - 1);
  const parts: string[] = [];
  for (const b of buckets) {
    const x = b.t * scaleX;
    const total = b.ok + b.errors;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${(bottom - total * scaleY).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(total * scaleY).toFixed(1)}" fill="#30363d"><title>${b.t} ms: ${b.ok} ok, ${b.errors} client errors</title></rect>`,
    );
    if (b.errors > 0)
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(bottom - b.errors * scaleY).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(b.errors * scaleY).toFixed(1)}" fill="#f85149" opacity="0.5"/>`,
      );
    let y = bottom;
    for (const cause of causes) {
      const n = b.byCause[cause] ?? 0;
      if (n === 0) continue;
      const h = n * scaleY;
      y -= h;
      const color = CAUSE_COLORS[causes.indexOf(cause) % CAUSE_COLORS.length];
      parts.push(
        `<rect x="${(x + barWidth / 4).toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth / 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${esc(cause)}: ${n} failed tries</title></rect>`,
      );
    }
  }
  marks.forEach((m, i) => {
    const x = (m.t * scaleX).toFixed(1);
    const color = MARK_COLORS[m.kind];
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="${color}" stroke-width="${m.kind === 'event' ? 1 : 2}" stroke-dasharray="${m.kind === 'event' ? '2,3' : ''}"><title>${esc(m.label)} (+${m.t} ms)</title></line>`,
    );
    if (m.kind !== 'event')
      parts.push(
        `<text x="${x}" y="${bottom + 12 + (i % 4) * 11}" fill="${color}" font-size="10">${esc(m.label)}</text>`,
      );
  });
  const legend = causes
    .map((c, i) => `<span><i style="background:${CAUSE_COLORS[i % CAUSE_COLORS.length]}"></i>${esc(c)}</span>`)
    .join('');
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline of ${esc(result.name)}">${parts.join('')}</svg><div class="legend"><span><i style="background:#30363d"></i>requests</span><span><i style="background:#f85149;opacity:.5"></i>client errors</span>${legend}</div>`;
}

export function renderHtml(results: readonly ScenarioResult[], generatedAt: Date): string {
  const passed = results.filter((r) => r.passed).length;
  const rows = results
    .map(
      (r) =>
        `<tr><td><a href="#${esc(r.name)}">${esc(r.name)}</a></td><td class="${r.passed ? 'ok' : 'bad'}">${r.passed ? 'PASS' : 'FAIL'}</td><td>${esc(r.cause)}</td><td class="num">${r.requests}</td><td class="num">${r.clientErrors}</td><td class="num">${ms(r.detectMs)}</td><td class="num">${r.alertFiredMs === null ? '-' : `${ms(r.alertFiredMs)} / ${ms(r.alertResolvedMs)}`}</td><td class="num">${ms(r.recoverMs)}</td></tr>`,
    )
    .join('');
  const sections = results
    .map(
      (
        r,
      ) => `<section id="${esc(r.name)}"><h2>${esc(r.name)} <span class="${r.passed ? 'ok' : 'bad'}">${r.passed ? 'PASS' : 'FAIL'}</span></h2>
<p>${esc(r.title)} — root cause <b>${esc(r.cause)}</b></p>
${timelineSvg(r)}
<ul>${r.checks.map((c) => `<li class="${c.ok ? 'ok' : 'bad'}">${c.ok ? '✓' : '✗'} ${esc(c.name)}: ${esc(c.detail)}</li>`).join('')}</ul>
${r.notes.length > 0 ? `<p class="dim">${r.notes.map(esc).join('<br>')}</p>` : ''}
<p class="dim">failed tries: ${esc(
        Object.entries(r.failures)
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ') || 'none',
      )}</p></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatewise drill report</title>
<style>
body { background: #0d1117; color: #c9d1d9; font: 14px/1.5 system-ui, sans-serif; margin: 0; padding: 20px 28px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin: 0 0 4px; }
table { border-collapse: collapse; } th, td { padding: 4px 10px; border-bottom: 1px solid #30363d; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
section { background: #161b22; border: 1px solid #30363d; border-radius: 8px; padding: 12px 16px; margin: 16px 0; }
svg { width: 100%; max-width: 900px; height: auto; display: block; background: #0d1117; }
.ok { color: #56d364; } .bad { color: #f85149; } .dim { color: #8b949e; }
ul { padding-left: 18px; } a { color: #79c0ff; }
.legend span { margin-right: 12px; color: #8b949e; font-size: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
</style></head><body>
<h1>Gatewise drill report</h1>
<p class="dim">${esc(generatedAt.toISOString())} · ${passed} of ${results.length} passed</p>
<table><thead><tr><th>scenario</th><th>result</th><th>cause</th><th>requests</th><th>client errors</th><th>detect</th><th>alert fired / resolved</th><th>recover</th></tr></thead><tbody>${rows}</tbody></table>
${sections}
</body></html>
`;
}
