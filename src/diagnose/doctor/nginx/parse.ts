/**
 * Reads an nginx configuration into a tree of directives, following `include` (globs allowed,
 * relative paths against the configuration prefix, the folder of the main file, as `nginx -c`
 * does) and keeping the file:line of every directive for evidence. Also reads the output of
 * `nginx -T`, where each file follows a `# configuration file PATH:` line.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../../errors.js';
import { globIn, globSync, hasGlob } from './glob.js';
import { type Token, tokenize } from './tokenize.js';

export interface Directive {
  name: string;
  args: string[];
  file: string;
  line: number;
  /** The directives inside `{ }`, for block directives. */
  block?: Directive[];
}

/** Things the reader noticed that are not errors (an include glob that matched nothing). */
export interface ParseNote {
  file: string;
  line: number;
  message: string;
}

export interface NginxConfig {
  file: string;
  /** The folder relative includes resolve against. */
  prefix: string;
  files: string[];
  directives: Directive[];
  notes: ParseNote[];
}

const MAX_INCLUDE_DEPTH = 16;
const DUMP_MARKER = /^# configuration file (.+):\r?$/gm;

/** Parses one file's text, without following includes. Throws a ConfigError listing every syntax problem. */
export function parseNginxText(text: string, file: string): Directive[] {
  const { tokens, problems } = tokenize(text, file);
  const directives = buildTree(tokens, file, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return directives;
}

function buildTree(tokens: readonly Token[], file: string, problems: ConfigProblem[]): Directive[] {
  const root: Directive[] = [];
  const stack: Directive[][] = [root];
  const openedAt: Token[] = [];
  let words: Token[] = [];
  for (const token of tokens) {
    if (token.kind === 'word') {
      words.push(token);
      continue;
    }
    if (token.kind === '}') {
      if (words.length > 0) {
        const first = words[0]!;
        problems.push({ ...at(file, first), message: `directive "${first.text}" is not terminated by ";"` });
        words = [];
      }
      if (stack.length === 1) problems.push({ ...at(file, token), message: 'unexpected "}"' });
      else {
        stack.pop();
        openedAt.pop();
      }
      continue;
    }
    const first = words[0];
    if (first === undefined) {
      // A lone ";" is accepted by nginx; a "{" with no directive is not.
      if (token.kind === '{') problems.push({ ...at(file, token), message: 'unexpected "{"' });
      continue;
    }
    const directive: Directive = {
      name: first.text,
      args: words.slice(1).map((word) => word.text),
      file,
      line: first.line,
    };
    stack[stack.length - 1]!.push(directive);
    words = [];
    if (token.kind === '{') {
      directive.block = [];
      stack.push(directive.block);
      openedAt.push(token);
    }
  }
  if (words.length > 0) {
    const first = words[0]!;
    problems.push({ ...at(file, first), message: `unexpected end of file, expecting ";" or "}"` });
  }
  for (const token of openedAt) problems.push({ ...at(file, token), message: 'unexpected end of file, expecting "}"' });
  return root;
}

function at(file: string, token: Token): { file: string; line: number; col: number } {
  return { file, line: token.line, col: token.col };
}

/** The files of an `nginx -T` dump by path, in order, or undefined when the text is not one. */
export function splitNginxDump(text: string): Map<string, string> | undefined {
  const markers = [...text.matchAll(DUMP_MARKER)];
  if (markers.length === 0) return undefined;
  const files = new Map<string, string>();
  for (const [index, marker] of markers.entries()) {
    const start = marker.index + marker[0].length + 1;
    const end = markers[index + 1]?.index ?? text.length;
    files.set(marker[1]!.trim(), text.slice(start, end));
  }
  return files;
}

/**
 * Reads a configuration and every file it includes. A file that cannot be read or parsed throws a
 * ConfigError (doctor cannot run on it); an include pattern that matches nothing is a note, as
 * nginx accepts it.
 */
export function loadNginxConfig(file: string): NginxConfig {
  const main = resolve(file);
  let mainText: string;
  try {
    mainText = readFileSync(main, 'utf8');
  } catch (error) {
    throw unreadable(main, 1, main, error);
  }
  const dump = splitNginxDump(mainText);
  const sources = dump ?? new Map([[main, mainText]]);
  const mainFile = dump ? sources.keys().next().value! : main;
  const config: NginxConfig = { file: mainFile, prefix: dirname(mainFile), files: [], directives: [], notes: [] };

  const read = (path: string, from: Directive | undefined): string => {
    const known = sources.get(path);
    if (known !== undefined) return known;
    if (dump) throw new ConfigError([problemAt(from, path, `${path} is not in the nginx -T output`)]);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw unreadable(from?.file ?? path, from?.line ?? 1, path, error);
    }
  };

  const load = (path: string, from: Directive | undefined, depth: number): Directive[] => {
    if (depth > MAX_INCLUDE_DEPTH)
      throw new ConfigError([problemAt(from, path, `includes nested deeper than ${MAX_INCLUDE_DEPTH} (a loop?)`)]);
    const text = read(path, from);
    if (!config.files.includes(path)) config.files.push(path);
    return expand(parseNginxText(text, path), depth);
  };

  const expand = (directives: Directive[], depth: number): Directive[] => {
    const out: Directive[] = [];
    for (const directive of directives) {
      if (directive.name === 'include' && directive.block === undefined && directive.args.length === 1) {
        const pattern = directive.args[0]!;
        const absolute = isAbsolute(pattern) ? pattern : resolve(config.prefix, pattern);
        if (!hasGlob(absolute)) {
          out.push(...load(absolute, directive, depth + 1));
          continue;
        }
        const matches = dump ? globIn(absolute, sources.keys()) : globSync(absolute);
        if (matches.length === 0)
          config.notes.push({
            file: directive.file,
            line: directive.line,
            message: `include ${pattern} matched no file`,
          });
        for (const match of matches) out.push(...load(match, directive, depth + 1));
        continue;
      }
      if (directive.block !== undefined) directive.block = expand(directive.block, depth);
      out.push(directive);
    }
    return out;
  };

  config.directives = load(mainFile, undefined, 0);
  return config;
}

function problemAt(from: Directive | undefined, path: string, message: string): ConfigProblem {
  return { file: from?.file ?? path, line: from?.line ?? 1, col: 1, message };
}

function unreadable(file: string, line: number, path: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new ConfigError([{ file, line, col: 1, message: `cannot read ${path} (${code})` }]);
}
