/**
 * Per-route header edits, compiled once at config load into the strings and sets the request path
 * concatenates (PERF-NOTES rule 7): names to drop (lowercased) and the lines to append.
 */
export interface HeaderEditSpec {
  set?: Readonly<Record<string, string>> | undefined;
  add?: Readonly<Record<string, string>> | undefined;
  remove?: readonly string[] | undefined;
}

export interface CompiledHeaderEdits {
  /** Lowercased names whose incoming lines are dropped (`remove` and the names `set` replaces). */
  readonly drop: ReadonlySet<string> | null;
  /** `Name: value\r\n` lines to append (`set` then `add`). */
  readonly append: string;
  /** The same lines as pairs, for HTTP/2 responses. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
}

export const NO_EDITS: CompiledHeaderEdits = { drop: null, append: '', pairs: [] };

export function compileHeaderEdits(spec: HeaderEditSpec | undefined): CompiledHeaderEdits {
  if (!spec) return NO_EDITS;
  const drop = new Set<string>();
  const pairs: Array<readonly [string, string]> = [];
  for (const name of spec.remove ?? []) drop.add(name.toLowerCase());
  for (const [name, value] of Object.entries(spec.set ?? {})) {
    drop.add(name.toLowerCase());
    pairs.push([name, value]);
  }
  for (const [name, value] of Object.entries(spec.add ?? {})) pairs.push([name, value]);
  if (drop.size === 0 && pairs.length === 0) return NO_EDITS;
  return {
    drop: drop.size > 0 ? drop : null,
    append: pairs.map(([n, v]) => `${n}: ${v}\r\n`).join(''),
    pairs,
  };
}
