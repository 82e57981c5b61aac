// `npm run bench`: Gatewise against nginx and the usual Node proxies, in one interleaved run.
// See bench/README.md for the method and options.
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../src/errors.js';
import { type BenchOptions, parseBenchArgs, USAGE } from './lib/args.js';
import { startBackend } from './lib/backend.js';
import { runScenario, type ScenarioContext } from './lib/measure.js';
import { clockTicksPerSecond } from './lib/proc.js';
import { ProcessGroup } from './lib/processes.js';
import { machineInfo, resultsMarkdown, type ScenarioSection } from './lib/report.js';
import { COLUMNS, formatText, scenarioNotes, scenarioRows, summarise } from './lib/table.js';
import { GATEWISE_MAX_IDLE, NGINX_KEEPALIVE } from './lib/targets.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function requireTools(): void {
  const dirs = (process.env['PATH'] ?? '').split(delimiter);
  const missing = ['nginx', 'wrk', 'taskset', 'getconf', 'nproc'].filter(
    (tool) => !dirs.some((dir) => dir !== '' && existsSync(join(dir, tool))),
  );
  // nginx lives in /usr/sbin, which a non-root PATH may lack.
  if (missing.length > 0) {
    throw new CliError(`missing ${missing.join(', ')} on PATH (Debian: apt-get install -y nginx-light wrk)`, 2);
  }
}

async function profileDir(options: BenchOptions): Promise<string | null> {
  if (!options.cpuProf) return null;
  const dir = join(repoRoot, 'bench', 'out');
  await mkdir(dir, { recursive: true });
  log(`CPU profiles go to ${dir}`);
  return dir;
}

async function bench(options: BenchOptions, group: ProcessGroup, dir: string): Promise<ScenarioSection[]> {
  const runAsRoot = process.getuid?.() === 0;
  const backend = await startBackend(group, dir, runAsRoot);
  const ctx: ScenarioContext = {
    options,
    group,
    backend,
    env: { dir, repoRoot, backendPort: backend.port, group, runAsRoot, cpuProfDir: await profileDir(options) },
    clockTicksPerSec: clockTicksPerSecond(),
    log,
  };
  const sections: ScenarioSection[] = [];
  for (const scenario of options.scenarios) {
    log(`== ${scenario.name}: ${scenario.title}`);
    const outcomes = await runScenario(ctx, scenario);
    if (group.closed) break;
    const summaries = outcomes.map(summarise);
    const section = { scenario, rows: scenarioRows(summaries), notes: scenarioNotes(summaries) };
    sections.push(section);
    process.stdout.write(
      `\n${scenario.name}: ${scenario.title} (median of ${options.runs} × ${options.durationSec} s)\n` +
        `${formatText(COLUMNS, section.rows)}\n${section.notes.map((n) => `  note: ${n}\n`).join('')}`,
    );
  }
  return sections;
}

async function main(): Promise<number> {
  const parsed = parseBenchArgs(process.argv.slice(2), join(repoRoot, 'bench', 'RESULTS.md'));
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { options } = parsed;
  requireTools();
  const startedAt = Date.now();
  const group = new ProcessGroup();
  const dir = await mkdtemp(join(tmpdir(), 'gatewise-bench-'));
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= group.close().finally(() => rm(dir, { recursive: true, force: true })));
  const interrupted = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping every process the benchmark started`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  // Last resort if something exits the process without the cleanup above having finished.
  process.once('exit', () => {
    group.killAllNow();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const sections = await bench(options, group, dir);
    // Interrupted: the signal handler finishes the cleanup and exits; no partial report.
    if (group.closed) return 130;
    const elapsedSec = (Date.now() - startedAt) / 1000;
    log(`done in ${Math.round(elapsedSec)} s`);
    if (options.resultsPath !== null) {
      const report = resultsMarkdown({
        date: new Date(),
        command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
        machine: machineInfo(),
        options,
        nginxKeepalive: NGINX_KEEPALIVE,
        gatewiseMaxIdle: GATEWISE_MAX_IDLE,
        elapsedSec,
        sections,
      });
      await writeFile(options.resultsPath, report);
      log(`wrote ${options.resultsPath}`);
    }
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  },
);
