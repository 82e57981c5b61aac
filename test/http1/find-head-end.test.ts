import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fc from 'fast-check';
import { checkPartialHead, DEFAULT_HEAD_LIMITS, findHeadEnd, type HeadLimits } from '../../src/http1/index.js';
import { assertParseError } from './helpers.js';

const HEAD = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

test('findHeadEnd finds the end at every split of the head, resuming from the last end', () => {
  const buf = Buffer.from(`${HEAD}BODY`, 'latin1');
  for (let split = 0; split <= buf.length; split++) {
    const first = findHeadEnd(buf, 0, 0, Math.min(split, buf.length));
    if (split < HEAD.length) {
      assert.equal(first, -1, `split ${split}`);
      assert.equal(findHeadEnd(buf, 0, split, buf.length), HEAD.length, `resume at ${split}`);
    } else {
      assert.equal(first, HEAD.length, `split ${split}`);
    }
  }
});

test('findHeadEnd feeds one byte at a time', () => {
  const buf = Buffer.from(`\r\n${HEAD}`, 'latin1');
  let end = -1;
  for (let n = 1; n <= buf.length && end === -1; n++) end = findHeadEnd(buf, 0, n - 1, n);
  assert.equal(end, buf.length);
});

test('leading empty lines are not taken for the end of the head', () => {
  const raw = `\r\n\r\n\r\n${HEAD}`;
  const buf = Buffer.from(raw, 'latin1');
  assert.equal(findHeadEnd(buf, 0, 0, buf.length), raw.length);
  assert.equal(findHeadEnd(buf, 0, 0, 6), -1);
  assert.equal(findHeadEnd(Buffer.from('\r\n\r\n\r\n'), 0, 0, 6), -1);
});

test('a head ending in LF LF is reported complete so that the parser can refuse it at once', () => {
  const buf = Buffer.from('GET / HTTP/1.1\nHost: a\n\nrest', 'latin1');
  assert.equal(findHeadEnd(buf, 0, 0, buf.length), 'GET / HTTP/1.1\nHost: a\n\n'.length);
  const mixed = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\nrest', 'latin1');
  assert.equal(findHeadEnd(mixed, 0, 0, mixed.length), 'GET / HTTP/1.1\r\nHost: a\r\n\n'.length);
});

test('findHeadEnd never looks past end', () => {
  const buf = Buffer.from(HEAD, 'latin1');
  assert.equal(findHeadEnd(buf, 0, 0, HEAD.length - 1), -1);
  assert.equal(findHeadEnd(buf, 2, 2, buf.length), HEAD.length);
});

test('checkPartialHead refuses a request line longer than the limit before it ends', () => {
  const limits: HeadLimits = { maxHeadBytes: 1000, maxRequestLineBytes: 50, maxHeaders: 10 };
  const long = Buffer.from(`GET /${'a'.repeat(100)}`, 'latin1');
  checkPartialHead(long, 0, 50, limits, true);
  assertParseError(() => checkPartialHead(long, 0, 51, limits, true), 'HPE_URI_TOO_LONG', 414);
  // A short request line followed by many bytes of fields is fine until the head limit.
  const fields = Buffer.from(`GET / HTTP/1.1\r\nX: ${'v'.repeat(980)}`, 'latin1');
  checkPartialHead(fields, 0, fields.length, limits, true);
  // Responses are bounded by the head limit only.
  checkPartialHead(long, 0, long.length, limits, false);
});

test('checkPartialHead refuses a head over the limit: 431 for requests, 502 for responses', () => {
  const buf = Buffer.from(`GET / HTTP/1.1\r\nX: ${'v'.repeat(20000)}`, 'latin1');
  checkPartialHead(buf, 0, DEFAULT_HEAD_LIMITS.maxHeadBytes, DEFAULT_HEAD_LIMITS, true);
  assertParseError(
    () => checkPartialHead(buf, 0, DEFAULT_HEAD_LIMITS.maxHeadBytes + 1, DEFAULT_HEAD_LIMITS, true),
    'HPE_HEAD_TOO_LARGE',
    431,
  );
  assertParseError(
    () => checkPartialHead(buf, 0, DEFAULT_HEAD_LIMITS.maxHeadBytes + 1, DEFAULT_HEAD_LIMITS, false),
    'HPE_HEAD_TOO_LARGE',
    502,
  );
});

test('checkPartialHead counts the request line after leading empty lines', () => {
  const limits: HeadLimits = { maxHeadBytes: 1000, maxRequestLineBytes: 10, maxHeaders: 10 };
  const buf = Buffer.from('\r\n\r\nGET /abcd HTTP/1.1\r\n', 'latin1');
  assertParseError(() => checkPartialHead(buf, 0, buf.length, limits, true), 'HPE_URI_TOO_LONG', 414);
  checkPartialHead(buf, 0, 14, limits, true);
});

/** The first index past LF LF, LF CR LF or CR LF CR LF after the leading CR/LF bytes, or -1. */
function reference(bytes: Buffer): number {
  let s = 0;
  while (s < bytes.length && (bytes[s] === 13 || bytes[s] === 10)) s++;
  for (let i = s + 1; i < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i - 1] === 10 || (bytes[i - 1] === 13 && i - 2 >= s && bytes[i - 2] === 10)) return i + 1;
  }
  return -1;
}

test('property: findHeadEnd agrees with a plain search, however the bytes are cut', () => {
  const byte = fc.oneof(
    { arbitrary: fc.constantFrom(13, 10), weight: 3 },
    { arbitrary: fc.constantFrom(65, 32), weight: 2 },
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 40 }),
      fc.array(byte, { maxLength: 40 }),
      fc.nat(),
      (a, b, cut) => {
        const bytes = Buffer.from([...a.map((x) => (x % 3 === 0 ? 65 : x)), ...b]);
        const expected = reference(bytes);
        assert.equal(findHeadEnd(bytes, 0, 0, bytes.length), expected);
        const split = cut % (bytes.length + 1);
        const first = findHeadEnd(bytes, 0, 0, split);
        if (first !== -1) assert.equal(first, expected);
        else assert.equal(findHeadEnd(bytes, 0, split, bytes.length), expected);
      },
    ),
    { numRuns: 2000 },
  );
});
