export interface GatewiseBenchConfig {
  port: number;
  adminPort: number;
  backendPort: number;
  /** Access log file, or null to switch the access log off. */
  accessLogFile: string | null;
  /** Idle upstream connections Gatewise may keep (sized to the largest scenario's concurrency). */
  maxIdle: number;
}

/** A Gatewise config (DESIGN.md reference format) proxying everything to the benchmark backend. */
export function gatewiseConfig(c: GatewiseBenchConfig): string {
  // JSON strings are valid YAML double-quoted scalars, so any temp path is quoted safely.
  const log = c.accessLogFile === null ? '{ access: false }' : `{ file: ${JSON.stringify(c.accessLogFile)} }`;
  return [
    'listen:',
    `  - address: 127.0.0.1:${c.port}`,
    'admin:',
    `  address: 127.0.0.1:${c.adminPort}`,
    `log: ${log}`,
    'upstreams:',
    '  bench:',
    '    servers:',
    `      - url: http://127.0.0.1:${c.backendPort}`,
    `    keepalive: { max_idle: ${c.maxIdle} }`,
    'routes:',
    '  - match: { path: / }',
    '    upstream: bench',
    '',
  ].join('\n');
}
