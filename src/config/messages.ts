import type { z } from 'zod';
import type { ConfigProblem } from '../errors.js';
import { knownKeys } from './introspect.js';
import type { Locator, PathSegment } from './positions.js';
import { closest, didYouMean } from './suggest.js';
import { showValue } from './units.js';

/**
 * Turns zod's issues into `file:line:col: message` problems. Leaf schemas word their own messages
 * (fields.ts); this error map words the structural ones in the same `expected X, got Y` form.
 */

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'an integer', // every number in the configuration is a whole one
  int: 'an integer',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
};

export function errorMap(issue: z.core.$ZodRawIssue): string | undefined {
  const got = showValue(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${got}`;
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `expected a non-empty string, got ${got}`;
      return `expected an integer >= ${issue.minimum}, got ${got}`;
    case 'too_big':
      if (issue.origin === 'array') return `expected at most ${issue.maximum} items`;
      return `expected an integer <= ${issue.maximum}, got ${got}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}; got ${got}`;
    default:
      return undefined;
  }
}

type Issue = z.core.$ZodIssue;

function missingKey(issue: Issue): PathSegment | undefined {
  const last = issue.path[issue.path.length - 1];
  return issue.code === 'invalid_type' && issue.input === undefined && typeof last === 'string' ? last : undefined;
}

export function issuesToProblems(
  issues: readonly Issue[],
  locator: Locator,
  schema: z.core.$ZodType,
  file: string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (at: { line: number; col: number }, message: string) => problems.push({ file, ...at, message });
  // A misspelt required key shows up twice: unknown `adress`, missing `address`. The first says it all.
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownKeys(schema, issue.path as PathSegment[]);
    for (const key of issue.keys) {
      const meant = closest(key, known);
      if (meant !== undefined) misspelt.add(JSON.stringify([...issue.path, meant]));
      add(locator.key([...(issue.path as PathSegment[]), key]), `unknown key "${key}"${didYouMean(key, known)}`);
    }
  }
  for (const issue of issues) {
    const path = issue.path as PathSegment[];
    const missing = missingKey(issue);
    if (issue.code === 'unrecognized_keys' || misspelt.has(JSON.stringify(path))) continue;
    if (issue.code === 'invalid_key') add(locator.key(path), issue.issues[0]?.message ?? issue.message);
    else if (missing !== undefined) add(locator.parent(path), `missing required key "${missing}"`);
    else add(locator.value(path), issue.message);
  }
  return problems;
}
