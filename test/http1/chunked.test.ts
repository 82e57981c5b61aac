import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fc from 'fast-check';
import { ChunkedScanner } from '../../src/http1/index.js';
import { assertParseError } from './helpers.js';

const BODY =
  '5\r\nhello\r\n' +
  '6;name=value\r\n world\r\n' +
  'A;a="q \\" ;x";b;c=d\r\n0123456789\r\n' +
  '1F\r\n' +
  'x'.repeat(31) +
  '\r\n' +
  '0;last\r\n' +
  'Expires: never\r\n' +
  'X-Sum:\t abc \r\n' +
  '\r\n';
const DATA_BYTES = 5 + 6 + 10 + 31;

/** Feeds `bytes` to a fresh scanner in pieces cut at `cuts`; returns the end offset found. */
function scanInPieces(bytes: Buffer, cuts: number[], scanner = new ChunkedScanner()): number {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const end = scanner.scan(bytes, from, cut);
    if (end !== -1) return end;
    from = cut;
  }
  return -1;
}

test('a chunked body is found to end just past its final CRLF, whatever follows', () => {
  const buf = Buffer.from(`${BODY}GET / HTTP/1.1\r\n`, 'latin1');
  const s = new ChunkedScanner();
  assert.equal(s.scan(buf, 0, buf.length), BODY.length);
  assert.equal(s.dataBytes, DATA_BYTES);
  assert.equal(s.done, true);
  assert.equal(s.scan(buf, BODY.length, buf.length), BODY.length, 'a finished scanner consumes nothing');
});

test('the end is found for a split at every byte position', () => {
  const buf = Buffer.from(`${BODY}NEXT`, 'latin1');
  const s = new ChunkedScanner();
  for (let cut = 0; cut <= BODY.length; cut++) {
    s.reset();
    assert.equal(scanInPieces(buf, [cut], s), BODY.length, `cut at ${cut}`);
    assert.equal(s.dataBytes, DATA_BYTES);
  }
});

test('the end is found when the body arrives one byte at a time', () => {
  const buf = Buffer.from(BODY, 'latin1');
  const cuts = Array.from({ length: buf.length - 1 }, (_, i) => i + 1);
  assert.equal(scanInPieces(buf, cuts), BODY.length);
});

test('scan works on a range inside a larger buffer', () => {
  const buf = Buffer.from(`HEAD${BODY}TAIL`, 'latin1');
  assert.equal(new ChunkedScanner().scan(buf, 4, buf.length - 4), 4 + BODY.length);
  assert.equal(new ChunkedScanner().scan(buf, 4, 4 + BODY.length - 1), -1);
});

test('the smallest body is the last chunk and an empty trailer section', () => {
  assert.equal(new ChunkedScanner().scan(Buffer.from('0\r\n\r\n'), 0, 5), 5);
  assert.equal(new ChunkedScanner().scan(Buffer.from('000\r\n\r\n'), 0, 7), 7);
});

test('chunk sizes up to 16 hex digits and Number.MAX_SAFE_INTEGER are accepted', () => {
  const s = new ChunkedScanner();
  assert.equal(s.scan(Buffer.from('001FFFFFFFFFFFFF\r\nab'), 0, 20), -1);
  assert.equal(s.dataBytes, 2);
  const upper = new ChunkedScanner();
  assert.equal(upper.scan(Buffer.from('aBcD\r\n'), 0, 6), -1);
});

test('reset() starts a new body', () => {
  const s = new ChunkedScanner();
  assertParseError(() => s.scan(Buffer.from('zz'), 0, 2), 'HPE_INVALID_CHUNK_SIZE', 400);
  s.reset();
  assert.equal(s.scan(Buffer.from('1\r\na\r\n0\r\n\r\n'), 0, 11), 11);
  assert.equal(s.dataBytes, 1);
  s.reset();
  assert.equal(s.dataBytes, 0);
  assert.equal(s.done, false);
});

const REJECTED: [string, string, string][] = [
  ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['leading space', ' 5\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['trailing space', '5 \r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['trailing HTAB', '5\t\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['empty extension name', '5 ;\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['empty extension name, no BWS', '5;\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['extension value missing', '5;a=\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['extension name with delimiter', '5;a(b\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['space after extension name', '5;a b\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['BWS before CRLF', '5;a=b \r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['BWS before ;', '5 ;a\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['BWS after ;', '5; a\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['BWS before =', '5;a =b\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['BWS after =', '5;a= b\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['BWS after a quoted value', '5;a="b" ;c\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['obs-text in a token value', '5;a=\xe9\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['unterminated quoted-string', '5;a="b\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['CTL in quoted-string', '5;a="\x01"\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['text after quoted-string', '5;a="b"c\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['negative size', '-5\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['plus sign', '+5\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['empty size', '\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['non-hex digit', '5g\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['NUL after size', '5\x00\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['17 hex digits', '00000000000000005\r\nhello\r\n0\r\n\r\n', 'HPE_CHUNK_OVERFLOW'],
  ['past MAX_SAFE_INTEGER', '20000000000000\r\n', 'HPE_CHUNK_OVERFLOW'],
  ['overflow', 'ffffffffffffffffff\r\n', 'HPE_CHUNK_OVERFLOW'],
  ['LF-only size line', '5\nhello\r\n0\r\n\r\n', 'HPE_BARE_LF'],
  ['LF-only after extension', '5;a=b\nhello\r\n0\r\n\r\n', 'HPE_BARE_LF'],
  ['CR without LF in size line', '5\rhello\r\n0\r\n\r\n', 'HPE_BARE_CR'],
  ['LF-only after data', '5\r\nhello\n0\r\n\r\n', 'HPE_INVALID_CHUNK_FRAMING'],
  ['data longer than the size', '5\r\nhello!\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_FRAMING'],
  ['data shorter than the size', '6\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_FRAMING'],
  ['CR without LF after data', '5\r\nhello\r0\r\n\r\n', 'HPE_INVALID_CHUNK_FRAMING'],
  ['LF-only last chunk', '0\n\r\n', 'HPE_BARE_LF'],
  ['LF-only end of body', '0\r\n\n', 'HPE_BARE_LF'],
  ['CR without LF at the end of body', '0\r\n\rx', 'HPE_BARE_CR'],
  ['obs-fold in trailer', '0\r\nA: b\r\n c\r\n\r\n', 'HPE_INVALID_TRAILER'],
  ['space before colon in trailer', '0\r\nA : b\r\n\r\n', 'HPE_INVALID_TRAILER'],
  ['trailer without colon', '0\r\nAb\r\n\r\n', 'HPE_INVALID_TRAILER'],
  ['NUL in trailer value', '0\r\nA: \x00\r\n\r\n', 'HPE_INVALID_TRAILER'],
  ['LF-only trailer line', '0\r\nA: b\n\r\n', 'HPE_BARE_LF'],
  ['CR without LF in trailer', '0\r\nA: b\rc\r\n\r\n', 'HPE_BARE_CR'],
];

test('malformed chunked framing is refused, whole or split at any byte', () => {
  for (const [what, body, code] of REJECTED) {
    const buf = Buffer.from(body, 'latin1');
    for (let cut = 0; cut <= buf.length; cut++) {
      assert.doesNotThrow(() => assertParseError(() => scanInPieces(buf, [cut]), code, 400), `${what}, cut at ${cut}`);
    }
  }
});

test('errors carry the status given to the constructor', () => {
  const s = new ChunkedScanner(undefined, undefined, 502);
  assertParseError(() => s.scan(Buffer.from('x'), 0, 1), 'HPE_INVALID_CHUNK_SIZE', 502);
});

test('chunk extensions and trailer sections are bounded', () => {
  const ext = (n: number): Buffer => Buffer.from(`5;${'a'.repeat(n - 1)}\r\nhello\r\n0\r\n\r\n`, 'latin1');
  assert.equal(new ChunkedScanner(1000, 16).scan(ext(16), 0, ext(16).length), ext(16).length);
  assertParseError(() => new ChunkedScanner(1000, 16).scan(ext(17), 0, ext(17).length), 'HPE_CHUNK_EXT_TOO_LARGE', 400);
  // The bound is per chunk line, not per body.
  const many = Buffer.from(`${'1;aaaaaaaaa\r\nx\r\n'.repeat(10)}0\r\n\r\n`, 'latin1');
  assert.equal(new ChunkedScanner(1000, 16).scan(many, 0, many.length), many.length);
  const trailer = (n: number): Buffer => Buffer.from(`0\r\nX: ${'v'.repeat(n - 5)}\r\n\r\n`, 'latin1');
  assert.equal(new ChunkedScanner(32).scan(trailer(32), 0, trailer(32).length), trailer(32).length);
  assertParseError(() => new ChunkedScanner(32).scan(trailer(33), 0, trailer(33).length), 'HPE_TRAILER_TOO_LARGE', 400);
});

const extArb = fc.array(
  fc.tuple(
    fc.constant(''),
    fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,6}$/),
    fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9-]{1,6}$/), fc.stringMatching(/^"([ !#-[\]-~]|\\")*"$/)), {
      nil: undefined,
    }),
  ),
  { maxLength: 3 },
);

const bodyArb = fc.tuple(
  fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean(), extArb), { maxLength: 6 }),
  fc.array(fc.stringMatching(/^[A-Za-z-]{1,8}: [ -~]{0,12}$/), { maxLength: 3 }),
  fc.array(fc.nat(), { maxLength: 4 }),
);

test('property: generated chunked bodies end exactly where they end, however they are cut', () => {
  fc.assert(
    fc.property(bodyArb, ([chunks, trailers, cutSeeds]) => {
      let raw = '';
      let data = 0;
      for (const [size, upper, exts] of chunks) {
        const hex = size.toString(16);
        raw += upper ? hex.toUpperCase() : hex;
        for (const [bws, name, value] of exts) raw += `${bws};${name}${value === undefined ? '' : `=${value}`}`;
        raw += `\r\n${'d'.repeat(size)}\r\n`;
        data += size;
      }
      raw += `0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`;
      const buf = Buffer.from(`${raw}POST / HTTP/1.1\r\n`, 'latin1');
      const cuts = [...new Set(cutSeeds.map((c) => c % (raw.length + 1)))].sort((a, b) => a - b);
      const s = new ChunkedScanner();
      assert.equal(scanInPieces(buf, cuts, s), raw.length);
      assert.equal(s.dataBytes, data);
    }),
    { numRuns: 300 },
  );
});
