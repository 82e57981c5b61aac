import { parseArgs } from 'node:util';
import { CliError } from '../../src/errors.js';
import { SCENARIOS, type Scenario } from './scenarios.js';

/** The targets, in table order; `--only` takes these names. */
export const TARGET_NAMES = [
  'direct',
  'nginx',
  'gatewise',
  'gatewise-nolog',
  'gatewise-w1',
  'gatewise-w2',
  'undici',
  'reply-from',
  'http-proxy',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface BenchOptions {
  durationSec: number;
  warmupSec: number;
  runs: number;
  scenarios: Scenario[];
  targets: TargetName[];
  /** Where the Markdown report goes; null when `--no-results`. */
  resultsPath: string | null;
  /** Run the Node targets under `--cpu-prof` (their figures are then not comparable). */
  cpuProf: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --duration S     seconds of each measured run (default 5)
  --warmup S       seconds of load before each measured run, not measured (default 1)
  --runs N         repeats; targets are interleaved in each, order rotated (default 3)
  --quick          1 run of 3 s (a smoke test)
  --only A,B       targets: ${TARGET_NAMES.join(', ')}
  --scenarios A,B  scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}
  --results FILE   where to write the Markdown report (default bench/RESULTS.md)
  --no-results     do not write the report
  --cpu-prof       profile the Node targets (node --cpu-prof) into bench/out/; implies --no-results
  --help           this text`;

function positiveNumber(flag: string, text: string, integer: boolean): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new CliError(`--${flag} wants a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`, 2);
  }
  return value;
}

function pickNames<T extends string>(flag: string, text: string, known: readonly T[]): T[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !(known as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new CliError(`--${flag}: unknown ${unknown.join(', ') || '(empty)'}; known: ${known.join(', ')}`, 2);
  }
  // Keep the table order whatever order they were given in.
  return known.filter((n) => names.includes(n));
}

/** Parses the bench command line; `help: true` when --help was asked. Throws CliError (exit 2). */
export function parseBenchArgs(
  argv: readonly string[],
  defaultResultsPath: string,
): { help: true } | { help: false; options: BenchOptions } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`, 2);
  }
  const v = parsed.values;
  if (v.help === true) return { help: true };
  const quick = v.quick === true;
  const scenarioNames = SCENARIOS.map((s) => s.name);
  const chosen =
    v.scenarios === undefined ? scenarioNames : pickNames('scenarios', v.scenarios, scenarioNames as string[]);
  return {
    help: false,
    options: {
      durationSec: v.duration === undefined ? (quick ? 3 : 5) : positiveNumber('duration', v.duration, false),
      warmupSec: v.warmup === undefined ? 1 : positiveNumber('warmup', v.warmup, false),
      runs: v.runs === undefined ? (quick ? 1 : 3) : positiveNumber('runs', v.runs, true),
      scenarios: SCENARIOS.filter((s) => chosen.includes(s.name)),
      targets: v.only === undefined ? [...TARGET_NAMES] : pickNames('only', v.only, TARGET_NAMES),
      // A profiled run is slower than a real one: it never overwrites the report.
      resultsPath: v['no-results'] === true || v['cpu-prof'] === true ? null : (v.results ?? defaultResultsPath),
      cpuProf: v['cpu-prof'] === true,
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      results: { type: 'string' },
      'no-results': { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
