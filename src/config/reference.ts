import { describeConfig } from './describe.js';

/** The configuration reference as Markdown, generated from the schema (the one source of truth). */
export function renderConfigReference(): string {
  const rows = describeConfig();
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  let out = '# Configuration reference\n\n';
  out += 'Generated from the schema by `node scripts/config-reference.js`; a test keeps it in step.\n';
  out += 'Durations take a unit (`250ms`, `2s`, `1m`, `1h`); sizes take `k`/`m` or bytes; `$' + '{NAME}` expands an\n';
  out += 'environment variable (`$' + '{NAME:-default}` with a default). Percentages are written `50%` or as a\n';
  out += 'number 0-100.\n\n';
  out += '| key | type | default | description |\n|---|---|---|---|\n';
  for (const row of rows) {
    const fallback =
      'default' in row && row.default !== undefined
        ? `\`${JSON.stringify(row.default)}\``
        : row.required
          ? '*required*'
          : '';
    out += `| \`${cell(row.key)}\` | ${cell(row.type)} | ${cell(fallback)} | ${cell(row.description)} |\n`;
  }
  return out;
}
