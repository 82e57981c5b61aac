import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { alertChecks } from './alerts-checks.js';
import { type CheckReporter, checks } from './check.js';
import { expandEnvironment } from './env.js';
import { readFailureReason, resolveFilePaths, tlsFilesCheck } from './files.js';
import { errorMap, issuesToProblems } from './messages.js';
import { Locator } from './positions.js';
import { resilienceChecks } from './resilience-checks.js';
import { runChecks } from './run-checks.js';
import { type Config, configSchema } from './schema.js';

/**
 * The load pipeline: YAML with positions -> `${ENV}` expansion -> schema (types, defaults, field
 * checks) -> cross-field checks -> absolute file paths. Every stage reports into one list, so a
 * single run names every problem, each as `file:line:col: message`.
 */

export interface CheckResult {
  /** Present only when there are no problems. */
  config?: Config;
  problems: ConfigProblem[];
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.line - b.line || a.col - b.col;
}

/**
 * The YAML library's own errors. One stray token makes it report every following token of the
 * stream as unexpected; only the first of such a run says anything.
 */
function yamlErrors(errors: readonly YAMLError[], text: string): Array<{ offset: number; message: string }> {
  const kept: Array<{ offset: number; message: string }> = [];
  let cascading = false;
  for (const error of errors) {
    if (error.code === 'UNEXPECTED_TOKEN' && cascading) continue;
    cascading = error.code === 'UNEXPECTED_TOKEN';
    const offset = error.pos[0];
    // `${` is not allowed unquoted inside `{ }` / `[ ]`, a mistake easy to make with env references.
    const hint = text.slice(Math.max(0, offset - 2), offset + 2).includes('${')
      ? ` (quote values that use \${...} inside { } or [ ])`
      : '';
    kept.push({ offset, message: `${error.message}${hint}` });
  }
  return kept;
}

/** Validates a configuration and returns every problem found (sorted by position). */
export function checkConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): CheckResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const locator = new Locator(doc, lines);
  const problems: ConfigProblem[] = [];
  const atOffset = (offset: number, message: string) => problems.push({ file, ...locator.position(offset), message });

  for (const error of yamlErrors([...doc.errors, ...doc.warnings], text)) atOffset(error.offset, error.message);
  // After a syntax error the document's structure is a guess; problems found in it would mislead.
  if (doc.errors.length > 0) return { problems: problems.sort(byPosition) };
  if (doc.contents === null) {
    problems.push({ file, line: 1, col: 1, message: 'the configuration is empty' });
    return { problems };
  }

  const envProblems = expandEnvironment(doc, text, env);
  for (const problem of envProblems) atOffset(problem.offset, problem.message);
  // An unexpanded `${NAME}` would also fail its field's check; the variable is the one problem.
  const explained = new Set(
    envProblems.map((problem) => locator.position(problem.scalarOffset)).map(({ line, col }) => `${line}:${col}`),
  );

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    problems.push({ file, line: 1, col: 1, message: `cannot read the YAML: ${(error as Error).message}` });
    return { problems: problems.sort(byPosition) };
  }

  const result = configSchema.safeParse(data, { error: errorMap, reportInput: true });
  if (!result.success) {
    for (const problem of issuesToProblems(result.error.issues, locator, configSchema, file)) {
      if (!explained.has(`${problem.line}:${problem.col}`)) problems.push(problem);
    }
  }

  const reporter: CheckReporter = {
    report(path, message, at = 'value') {
      problems.push({ file, ...(at === 'key' ? locator.key(path) : locator.value(path)), message });
    },
    lineOf: (path) => locator.value(path).line,
  };
  for (const check of [...checks, ...resilienceChecks, ...alertChecks, ...runChecks, tlsFilesCheck(file)])
    check.run(data, reporter);

  if (problems.length > 0 || !result.success) return { problems: problems.sort(byPosition) };
  resolveFilePaths(result.data, file);
  return { config: result.data, problems: [] };
}

/** Parses and validates; throws a ConfigError carrying every problem. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const { config, problems } = checkConfigText(text, file, env);
  if (config === undefined) throw new ConfigError(problems);
  return config;
}

/** Reads and parses a configuration file; an unreadable file is a ConfigError at 1:1. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { file, line: 1, col: 1, message: `cannot read the configuration file: ${readFailureReason(error)}` },
    ]);
  }
  return parseConfigText(text, file, env);
}
