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

interface RawData {
  data?: unknown;
  problems: ConfigProblem[];
  locator: Locator;
  /** Positions whose problem is an unexpanded `${NAME}`, already reported. */
  explained: Set<string>;
}

/** YAML with positions -> `${ENV}` expansion -> plain data; stops early on a syntax error. */
function readData(text: string, file: string, env: NodeJS.ProcessEnv): RawData {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const locator = new Locator(doc, lines);
  const problems: ConfigProblem[] = [];
  const explained = new Set<string>();
  const atOffset = (offset: number, message: string) => problems.push({ file, ...locator.position(offset), message });

  for (const error of yamlErrors([...doc.errors, ...doc.warnings], text)) atOffset(error.offset, error.message);
  // After a syntax error the document's structure is a guess; problems found in it would mislead.
  if (doc.errors.length > 0) return { problems, locator, explained };
  if (doc.contents === null) {
    problems.push({ file, line: 1, col: 1, message: 'the configuration is empty' });
    return { problems, locator, explained };
  }

  const envProblems = expandEnvironment(doc, text, env);
  for (const problem of envProblems) atOffset(problem.offset, problem.message);
  // An unexpanded `${NAME}` would also fail its field's check; the variable is the one problem.
  for (const { line, col } of envProblems.map((problem) => locator.position(problem.scalarOffset)))
    explained.add(`${line}:${col}`);

  try {
    return { data: doc.toJS({ maxAliasCount: 100 }), problems, locator, explained };
  } catch (error) {
    problems.push({ file, line: 1, col: 1, message: `cannot read the YAML: ${(error as Error).message}` });
    return { problems, locator, explained };
  }
}

/**
 * Validates a configuration and returns every problem found (sorted by position). `overrides` are
 * top-level keys that replace the text's own before validation: a cluster node's own `listen`,
 * `admin` and `cluster` over the shared document from etcd (problems still point into the text).
 */
export function checkConfigText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides?: Readonly<Record<string, unknown>>,
): CheckResult {
  const read = readData(text, file, env);
  const { problems, locator, explained } = read;
  let data = read.data;
  if (data === undefined) return { problems: problems.sort(byPosition) };
  if (overrides !== undefined) {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      problems.push({ file, line: 1, col: 1, message: 'the configuration must be a map of keys' });
      return { problems };
    }
    data = { ...(data as Record<string, unknown>), ...overrides };
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

/** The keys a cluster node's own file holds; everything else comes from the shared document. */
export const NODE_KEYS = ['listen', 'admin', 'log', 'cluster'] as const;

export interface NodeFileResult {
  /** The node's keys as written (env-expanded, not yet validated): the overrides of checkConfigText. */
  raw?: Record<string, unknown>;
  problems: ConfigProblem[];
}

/**
 * Reads a cluster node's own file: `listen`, `admin`, `log` and `cluster` are checked with their
 * schemas (positions into the file); other keys, if any, are a full fallback config and ignored here.
 */
export function checkNodeText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): NodeFileResult {
  const { data, problems, locator, explained } = readData(text, file, env);
  if (data === undefined) return { problems: problems.sort(byPosition) };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problems.push({ file, line: 1, col: 1, message: 'the configuration must be a map of keys' });
    return { problems };
  }
  const raw: Record<string, unknown> = {};
  for (const key of NODE_KEYS) if (key in data) raw[key] = (data as Record<string, unknown>)[key];
  const nodeSchema = configSchema.pick({ listen: true, admin: true, log: true, cluster: true });
  const result = nodeSchema.safeParse(raw, { error: errorMap, reportInput: true });
  if (!result.success) {
    for (const problem of issuesToProblems(result.error.issues, locator, nodeSchema, file)) {
      if (!explained.has(`${problem.line}:${problem.col}`)) problems.push(problem);
    }
  }
  if (result.success && result.data.cluster === undefined)
    problems.push({
      file,
      line: 1,
      col: 1,
      message: 'a cluster node file needs a cluster: section (etcd, redis, data_dir)',
    });
  return problems.length > 0 ? { problems: problems.sort(byPosition) } : { raw, problems: [] };
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
