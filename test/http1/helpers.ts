import { strict as assert } from 'node:assert';
import {
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  type HeadLimits,
  HttpParseError,
  ParsedHead,
  parseRequestHead,
  parseResponseHead,
} from '../../src/http1/index.js';

/** Finds the head end in `raw` (latin1) and parses it as a request; returns the head. */
export function parseRequest(
  raw: string,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  out = new ParsedHead(),
): ParsedHead {
  const buf = Buffer.from(raw, 'latin1');
  const end = findHeadEnd(buf, 0, 0, buf.length);
  assert.notEqual(end, -1, 'head end not found');
  parseRequestHead(buf, 0, end, limits, out);
  return out;
}

export function parseResponse(
  raw: string,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  out = new ParsedHead(),
): ParsedHead {
  const buf = Buffer.from(raw, 'latin1');
  const end = findHeadEnd(buf, 0, 0, buf.length);
  assert.notEqual(end, -1, 'head end not found');
  parseResponseHead(buf, 0, end, limits, out);
  return out;
}

/** Asserts that fn throws an HttpParseError with this code and status. */
export function assertParseError(fn: () => unknown, code: string, status: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpParseError, `expected HttpParseError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    return true;
  });
}

/** The (name, value) pairs of a parsed head. */
export function fields(head: ParsedHead): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < head.count; i++) out.push([head.names[i]!, head.values[i]!]);
  return out;
}
