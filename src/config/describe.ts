import { z } from 'zod';
import { fieldTypes } from './fields.js';
import { core, defOf, layers } from './introspect.js';
import { configSchema } from './schema.js';

/** One row of the configuration reference. */
export interface ConfigKeyDescription {
  /** Dotted path as a user writes it: `upstreams.<name>.servers[].url`. */
  key: string;
  /** `duration`, `size`, `integer 1..1000`, `round_robin | least_conn`, `map`, `list of CIDR`... */
  type: string;
  /** The default as a user would write it; absent for required keys and for sections. */
  default?: unknown;
  /** The key must be written (it has no default and is not optional). */
  required: boolean;
  description: string;
}

type AnySchema = z.core.$ZodType;

function descriptionOf(schema: AnySchema): string {
  for (const layer of layers(schema)) {
    const description = z.globalRegistry.get(layer)?.description;
    if (description !== undefined) return description;
  }
  return '';
}

function defaultOf(schema: AnySchema): { value: unknown } | undefined {
  for (const layer of layers(schema)) {
    const def = defOf(layer);
    if (def.type === 'prefault' || def.type === 'default') return { value: def.defaultValue };
  }
  return undefined;
}

function isRequired(schema: AnySchema): boolean {
  return layers(schema).every((layer) => !['optional', 'prefault', 'default'].includes(defOf(layer).type));
}

function typeOf(schema: AnySchema): string {
  for (const layer of layers(schema)) {
    const label = fieldTypes.get(layer)?.type;
    if (label !== undefined) return label;
  }
  const inner = core(schema);
  const def = defOf(inner);
  switch (def.type) {
    case 'number': {
      const { minValue, maxValue } = inner as unknown as { minValue: number | null; maxValue: number | null };
      const bounded = maxValue !== null && maxValue < Number.MAX_SAFE_INTEGER;
      return bounded ? `integer ${minValue}..${maxValue}` : `integer >= ${minValue}`;
    }
    case 'enum':
      return (inner as unknown as { options: string[] }).options.join(' | ');
    case 'array':
      return defOf(core(def.element!)).type === 'object' ? 'list' : `list of ${typeOf(def.element!)}`;
    case 'record':
      return defOf(core(def.valueType!)).type === 'object' ? 'map' : `map of ${typeOf(def.valueType!)}`;
    case 'object':
      return 'map';
    default:
      return def.type;
  }
}

/** Adds a row for every key under `schema`, whose own path is `path` ('' for the root). */
function walk(schema: AnySchema, path: string, into: ConfigKeyDescription[]): void {
  const def = defOf(core(schema));
  if (def.type === 'object') {
    for (const [name, field] of Object.entries(def.shape ?? {})) {
      const key = path === '' ? name : `${path}.${name}`;
      const row: ConfigKeyDescription = {
        key,
        type: typeOf(field),
        required: isRequired(field),
        description: descriptionOf(field),
      };
      const found = defaultOf(field);
      const isSection = defOf(core(field)).type === 'object';
      if (found !== undefined && !isSection) row.default = found.value;
      into.push(row);
      walk(field, key, into);
    }
  } else if (def.type === 'array') {
    walk(def.element!, `${path}[]`, into);
  } else if (def.type === 'record') {
    walk(def.valueType!, `${path}.${path.endsWith('upstreams') ? '<name>' : '<header>'}`, into);
  }
}

/** Every key of the configuration with its type, default and description, from the schema itself. */
export function describeConfig(): ConfigKeyDescription[] {
  const rows: ConfigKeyDescription[] = [];
  walk(configSchema, '', rows);
  return rows;
}
