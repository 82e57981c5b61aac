/**
 * The nginx configuration tokenizer, after ngx_conf_read_token(): words separated by white space,
 * `;`, `{` and `}` as punctuation, `#` comments to the end of the line, '...' and "..." quoted
 * strings with backslash escapes, and `${name}` kept whole inside a word.
 */
import type { ConfigProblem } from '../../../errors.js';

export interface Token {
  kind: 'word' | ';' | '{' | '}';
  text: string;
  /** The word was quoted: it can never be punctuation (`";"` is an argument). */
  quoted: boolean;
  line: number;
  col: number;
}

export interface TokenizeResult {
  tokens: Token[];
  problems: ConfigProblem[];
}

const PUNCTUATION = new Set([';', '{', '}']);

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** nginx turns `\"`, `\'`, `\\`, `\t`, `\r`, `\n` into the character, quoted or not; other pairs stay as written. */
function unescapePair(pair: string): string {
  const c = pair[1]!;
  if (c === '"' || c === "'" || c === '\\') return c;
  if (c === 't') return '\t';
  if (c === 'r') return '\r';
  if (c === 'n') return '\n';
  return pair;
}

export function tokenize(text: string, file: string): TokenizeResult {
  const tokens: Token[] = [];
  const problems: ConfigProblem[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const advance = (to: number): void => {
    for (; i < to; i++) {
      if (text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
  };

  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      advance(i + 1);
      continue;
    }
    const startLine = line;
    const startCol = i - lineStart + 1;
    if (c === '#') {
      const end = text.indexOf('\n', i);
      advance(end === -1 ? text.length : end);
      continue;
    }
    if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as ';' | '{' | '}', text: c, quoted: false, line: startLine, col: startCol });
      advance(i + 1);
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) {
          value += unescapePair(text.slice(j, j + 2));
          j += 2;
        } else {
          value += text[j];
          j++;
        }
      }
      if (j >= text.length) {
        problems.push({ file, line: startLine, col: startCol, message: `unterminated ${c} quoted string` });
        advance(text.length);
        break;
      }
      tokens.push({ kind: 'word', text: value, quoted: true, line: startLine, col: startCol });
      advance(j + 1);
      continue;
    }
    // A bare word ends at white space, `;` or `{`; `}` ends it only at its start (as in nginx), and
    // the `{` of `${name}` belongs to the word.
    let value = '';
    let j = i;
    while (j < text.length) {
      const d = text[j]!;
      if (isSpace(d) || d === ';') break;
      if (d === '{' && text[j - 1] !== '$') break;
      if (d === '}' && j === i) break;
      if (d === '\\' && j + 1 < text.length) {
        value += unescapePair(text.slice(j, j + 2));
        j += 2;
        continue;
      }
      value += d;
      j++;
    }
    tokens.push({ kind: 'word', text: value, quoted: false, line: startLine, col: startCol });
    advance(j);
  }
  return { tokens, problems };
}
