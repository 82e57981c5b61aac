/**
 * The glob(3) nginx's `include` uses: `*`, `?` and `[...]` within one path segment, matches sorted,
 * names starting with a dot matched only by a pattern that starts with one.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

function segmentPattern(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      let inner = segment.slice(i + 1, end);
      if (inner.startsWith('!')) inner = `^${inner.slice(1)}`;
      source += `[${inner.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Absolute paths matching an absolute pattern, sorted; never throws (unreadable folders match nothing). */
export function globSync(pattern: string): string[] {
  const segments = pattern.split('/').filter((segment) => segment !== '');
  let paths = ['/'];
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const next: string[] = [];
    for (const base of paths) {
      if (!hasGlob(segment)) {
        next.push(join(base, segment));
        continue;
      }
      const regex = segmentPattern(segment);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (regex.test(name)) next.push(join(base, name));
      }
    }
    paths = next;
    if (last) break;
  }
  return paths.filter((path) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** Matches a pattern against a known list of paths (the files of an `nginx -T` dump). */
export function globIn(pattern: string, paths: Iterable<string>): string[] {
  const segments = pattern.split('/');
  const regexes = segments.map(segmentPattern);
  const matched: string[] = [];
  for (const path of paths) {
    const parts = path.split('/');
    if (parts.length !== segments.length) continue;
    if (parts.every((part, i) => regexes[i]!.test(part) && !(part.startsWith('.') && !segments[i]!.startsWith('.'))))
      matched.push(path);
  }
  return matched.sort();
}
