import type { z } from 'zod';
import type { PathSegment } from './positions.js';

/**
 * Reading the schema's structure: which keys an object knows (for did-you-mean), and the walk that
 * generates the config reference. Only the wrapper kinds the schema uses are understood.
 */

type AnySchema = z.core.$ZodType;

interface WrapperDef {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  valueType?: AnySchema;
  defaultValue?: unknown;
}

export function defOf(schema: AnySchema): WrapperDef {
  return schema._zod.def as unknown as WrapperDef;
}

/** The schemas from the outside in: `prefault(optional(object))` gives all three. */
export function layers(schema: AnySchema): AnySchema[] {
  const found: AnySchema[] = [schema];
  for (;;) {
    const def = defOf(found[found.length - 1]!);
    // A pipe is either `schema.transform(fn)` (the schema is `in`) or `z.preprocess(fn, schema)`
    // (the schema is `out`).
    const pipeInner = def.in !== undefined && defOf(def.in).type === 'transform' ? def.out : def.in;
    const inner = def.innerType ?? (def.type === 'pipe' ? pipeInner : undefined);
    if (inner === undefined) return found;
    found.push(inner);
  }
}

export function core(schema: AnySchema): AnySchema {
  return layers(schema).at(-1)!;
}

/** The schema a path leads to, or undefined where the path leaves the schema. */
export function schemaAt(root: AnySchema, path: readonly PathSegment[]): AnySchema | undefined {
  let schema: AnySchema | undefined = root;
  for (const segment of path) {
    if (schema === undefined) return undefined;
    const def = defOf(core(schema));
    if (def.type === 'object') schema = def.shape?.[String(segment)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return undefined;
  }
  return schema;
}

/** The keys an object schema at `path` accepts. */
export function knownKeys(root: AnySchema, path: readonly PathSegment[]): string[] {
  const schema = schemaAt(root, path);
  if (schema === undefined) return [];
  const def = defOf(core(schema));
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}
