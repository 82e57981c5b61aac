import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { BenchOptions } from './args.js';
import type { Scenario } from './scenarios.js';
import { COLUMNS, formatMarkdown, type TableRow } from './table.js';
import { WRK_TIMEOUT_SEC } from './wrk.js';

/** The machine and tool versions a result belongs to. */
export interface MachineInfo {
  nproc: string;
  cpuModel: string;
  kernel: string;
  node: string;
  nginx: string;
  wrk: string;
}

/** The first `model name` of /proc/cpuinfo (x86) or, failing that, its `Hardware`/`CPU part` line. */
export function parseCpuModel(cpuinfo: string): string {
  const match = /^(?:model name|Hardware|CPU part)\s*:\s*(.+)$/m.exec(cpuinfo);
  return match?.[1]?.trim() ?? 'unknown';
}

/** `nginx version: nginx/1.22.1` → `nginx/1.22.1`. */
export function parseNginxVersion(text: string): string {
  return /nginx version:\s*(\S+)/.exec(text)?.[1] ?? 'unknown';
}

/** `wrk debian/4.1.0-3+b2 [epoll] Copyright …` → `wrk debian/4.1.0-3+b2 [epoll]`. */
export function parseWrkVersion(text: string): string {
  return /^(wrk \S+(?: \[\w+\])?)/m.exec(text)?.[1] ?? 'unknown';
}

function outputOf(command: string, args: string[]): string {
  // `nginx -v` prints on stderr and `wrk -v` exits 1: take both streams, ignore the status.
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel = parseCpuModel(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // Not Linux: the benchmark would not have run (it needs /proc), but the report can still say so.
  }
  return {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpuModel,
    kernel: release(),
    node: process.version,
    nginx: parseNginxVersion(outputOf('nginx', ['-v'])),
    wrk: parseWrkVersion(outputOf('wrk', ['-v'])),
  };
}

/** One scenario's table, ready for the report. */
export interface ScenarioSection {
  scenario: Scenario;
  rows: TableRow[];
  notes: string[];
}

export interface ReportInput {
  date: Date;
  command: string;
  machine: MachineInfo;
  options: BenchOptions;
  nginxKeepalive: number;
  gatewiseMaxIdle: number;
  elapsedSec: number;
  sections: ScenarioSection[];
}

/** The method, in the few lines a reader of the tables needs. */
export function methodLines(o: ReportInput): string[] {
  return [
    `- Each proxy is pinned to CPU 0 (\`taskset -c 0\`); wrk (1 thread) and the backend nginx are pinned to CPU 1.`,
    '- Backend: nginx, 1 worker, access_log off, `keepalive_requests 100000`, `keepalive_timeout 75s`; `/small` returns a 20-byte body, `/1m` a 1 MiB static file.',
    `- Per scenario every target is started and checked to return 200 with the backend's exact body; then ${o.options.runs} repeat(s), each giving every target ${o.options.warmupSec} s of warm-up load and a ${o.options.durationSec} s measured wrk run (\`-t1 --timeout ${WRK_TIMEOUT_SEC}s --latency\`), targets interleaved in an order rotated each repeat. Figures are medians over the repeats; errors (socket errors + non-2xx/3xx) are summed.`,
    '- CPU µs/req: utime+stime (plus reaped children) of the proxy process and its children from /proc/PID/stat over the measured run, in `getconf CLK_TCK` ticks, divided by the requests wrk completed. RSS: VmRSS summed over the same processes right after the run.',
    '- upstream new: connections the backend accepted during the measured run (its stub_status `accepts`, read on a separate port). upstream open: established TCP connections from the proxy to the backend when the run ended (/proc/net/tcp matched to the proxy’s socket descriptors).',
    `- nginx proxy: 1 worker, \`upstream { keepalive ${o.nginxKeepalive}; keepalive_requests 100000; }\`, \`proxy_http_version 1.1\`, \`proxy_set_header Connection ""\`, access_log off, proxy buffering at its defaults. The pool stays at ${o.nginxKeepalive} at 256 connections too, so nginx opens upstream connections there (PERF-NOTES: a pool of 256 is worth about 1.6× at 256 connections).`,
    `- gatewise: \`serve\` with its defaults and the access log written to a file; the second row has \`log: { access: false }\`. Upstream \`keepalive: { max_idle: ${o.gatewiseMaxIdle} }\`.`,
    '- Peers (bench/peers/): `node:http` + undici `Pool.stream` (connections = the scenario’s concurrency, pipelining 1); fastify + @fastify/reply-from (undici connections = concurrency, logger off); `node:http` + http-proxy with a keep-alive `http.Agent` (maxSockets = concurrency). They forward the path unchanged and add nothing; the http-proxy peer destroys the upstream request when the client leaves mid-response (the fix of http-party/node-http-proxy#1559, without which it stalls).',
    '- Ratios are to the nginx row of the same run; absolute rates on a shared 2-core machine vary from day to day.',
  ];
}

export function resultsMarkdown(o: ReportInput): string {
  const m = o.machine;
  const out = [
    '# Benchmark results',
    '',
    `Generated ${o.date.toISOString()} by \`${o.command}\` in ${Math.round(o.elapsedSec)} s.`,
    '',
    '## Machine',
    '',
    `- nproc: ${m.nproc}; CPU: ${m.cpuModel}; kernel ${m.kernel}`,
    `- Node ${m.node}; ${m.nginx}; ${m.wrk}`,
    '',
    '## Method',
    '',
    ...methodLines(o),
    '',
  ];
  for (const section of o.sections) {
    out.push(`## ${section.scenario.name}: ${section.scenario.title}`, '', formatMarkdown(COLUMNS, section.rows), '');
    for (const note of section.notes) out.push(`- ${note}`);
    if (section.notes.length > 0) out.push('');
  }
  return out.join('\n');
}
