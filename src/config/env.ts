import { type Document, visit } from 'yaml';

/** A problem found while expanding, located by an offset into the source text. */
export interface OffsetProblem {
  offset: number;
  /** Where the scalar holding the reference starts: the schema's problem with it is the same one. */
  scalarOffset: number;
  message: string;
}

// `$${` writes a literal `${`; `${NAME}` and `${NAME:-default}` (shell semantics: the default also
// applies when NAME is set but empty).
const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Expands one string; problems carry offsets relative to the start of `value`. */
export function expandString(
  value: string,
  env: NodeJS.ProcessEnv,
): { value: string; problems: Array<{ index: number; message: string }> } {
  const problems: Array<{ index: number; message: string }> = [];
  const expanded = value.replace(REFERENCE, (whole: string, body: string | undefined, index: number) => {
    if (whole === '$${') return '${';
    if (!whole.endsWith('}')) {
      problems.push({ index, message: `unterminated variable reference "${whole}" (expected "\${NAME}")` });
      return whole;
    }
    const separator = body!.indexOf(':-');
    const name = separator === -1 ? body! : body!.slice(0, separator);
    if (!NAME.test(name)) {
      problems.push({
        index,
        message: `bad variable reference "${whole}" (expected "\${NAME}" or "\${NAME:-default}")`,
      });
      return whole;
    }
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (separator !== -1) return body!.slice(separator + 2);
    if (set === '') return set;
    problems.push({
      index,
      message: `environment variable ${name} is not set (use "\${${name}:-default}" for a default)`,
    });
    return whole;
  });
  return { value: expanded, problems };
}

/** Expands `${NAME}` in every scalar value (never in keys) of the document, in place. */
export function expandEnvironment(doc: Document, source: string, env: NodeJS.ProcessEnv): OffsetProblem[] {
  const problems: OffsetProblem[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const result = expandString(node.value, env);
      const start = node.range?.[0] ?? 0;
      const raw = source.slice(start, node.range?.[1] ?? start);
      for (const problem of result.problems) {
        // Point at the reference itself; the value may be quoted or folded, so find it in the source.
        const reference = node.value.slice(problem.index).match(/^\$\{[^}\s]*\}?/)?.[0] ?? '${';
        const at = raw.indexOf(reference);
        problems.push({ offset: start + (at === -1 ? 0 : at), scalarOffset: start, message: problem.message });
      }
      // The result is always a string, even for `weight: ${WEIGHT}`: integer and boolean fields
      // accept their canonical text, while a numeric token must not be turned into a number.
      if (result.problems.length === 0) node.value = result.value;
    },
  });
  return problems;
}
