/**
 * nginx's inheritance, as doctor needs it: a simple directive set in a block replaces the inherited
 * ones of that name (so array directives such as proxy_set_header are inherited all or nothing),
 * and literal `set $var value` accumulates from server to location.
 */
import type { Where } from '../model.js';
import type { Directive } from './parse.js';

/** Settings in scope: the directives of each name that apply here. */
export type Scope = ReadonlyMap<string, readonly Directive[]>;

export function blocksNamed(directives: readonly Directive[], name: string): Directive[] {
  return directives.filter((directive) => directive.name === name && directive.block !== undefined);
}

export function last(directives: readonly Directive[], name: string): Directive | undefined {
  for (let i = directives.length - 1; i >= 0; i--) if (directives[i]!.name === name) return directives[i];
  return undefined;
}

/** A block's scope: the parent's, with every simple directive set in the block replacing the inherited list. */
export function scopeOf(parent: Scope, block: readonly Directive[]): Scope {
  const scope = new Map(parent);
  const own = new Map<string, Directive[]>();
  for (const directive of block) {
    if (directive.block !== undefined || directive.name === 'set') continue;
    const list = own.get(directive.name);
    if (list) list.push(directive);
    else own.set(directive.name, [directive]);
  }
  for (const [name, list] of own) scope.set(name, list);
  return scope;
}

/** `set $name value` with a literal value, accumulated from server to location. */
export function varsOf(parent: ReadonlyMap<string, string>, block: readonly Directive[]): Map<string, string> {
  const vars = new Map(parent);
  for (const directive of block) {
    const [name, value] = directive.args;
    if (directive.name === 'set' && name?.startsWith('$') && value !== undefined) vars.set(name.slice(1), value);
  }
  return vars;
}

/** The directive of that name in force here (the last one set in the nearest block). */
export function value(scope: Scope, name: string): Directive | undefined {
  return scope.get(name)?.at(-1);
}

export function where(directive: Directive): Where {
  return { file: directive.file, line: directive.line };
}

/** Replaces `$name` / `${name}` with literal `set` values; unknown variables stay. */
export function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => vars.get(name) ?? whole);
}
