import { test } from 'node:test';
import { assertRefused, type Payload } from './corpus.js';

// Chunk-size and chunk-line tricks: a front end and a back end that disagree on where a chunk ends
// see different requests (Kettle 2019; "Funky chunks", Weinreich 2025, on LF-only and
// extension-terminator confusion; CVE-2023-30589, CVE-2024-22019 in Node's own parser).
const HEAD = 'POST / HTTP/1.1\r\nHost: victim\r\nTransfer-Encoding: chunked\r\n\r\n';
const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';
const body = (chunks: string): string => HEAD + chunks;

const PAYLOADS: Payload[] = [
  { name: '0x prefix', raw: body('0x5\r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  {
    name: '5 ; (space and empty extension)',
    raw: body('5 ;\r\nhello\r\n0\r\n\r\n'),
    code: 'HPE_INVALID_CHUNK_SIZE',
    status: 400,
  },
  { name: 'space after the size', raw: body('5 \r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'space before the size', raw: body(' 5\r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'negative size', raw: body('-1\r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'signed size', raw: body('+5\r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  {
    name: 'overflow: eighteen f digits',
    raw: body(`ffffffffffffffffff\r\n${SMUGGLED}\r\n0\r\n\r\n`),
    code: 'HPE_CHUNK_OVERFLOW',
    status: 400,
  },
  {
    name: 'overflow that wraps to a small 64-bit value',
    raw: body('10000000000000005\r\nhello\r\n0\r\n\r\n'),
    code: 'HPE_CHUNK_OVERFLOW',
    status: 400,
  },
  {
    name: 'leading zeros past sixteen digits',
    raw: body('00000000000000000005\r\nhello\r\n0\r\n\r\n'),
    code: 'HPE_CHUNK_OVERFLOW',
    status: 400,
  },
  { name: 'past Number.MAX_SAFE_INTEGER', raw: body('20000000000000\r\n'), code: 'HPE_CHUNK_OVERFLOW', status: 400 },
  { name: 'LF-only chunk-size line', raw: body('5\nhello\r\n0\r\n\r\n'), code: 'HPE_BARE_LF', status: 400 },
  {
    name: 'LF-only after chunk-data',
    raw: body('5\r\nhello\n0\r\n\r\n'),
    code: 'HPE_INVALID_CHUNK_FRAMING',
    status: 400,
  },
  { name: 'LF-only last chunk', raw: body(`0\n\n${SMUGGLED}`), code: 'HPE_BARE_LF', status: 400 },
  { name: 'LF-only final line', raw: body(`0\r\n\n${SMUGGLED}`), code: 'HPE_BARE_LF', status: 400 },
  { name: 'LF inside a chunk extension', raw: body('2;\nxx\r\n0\r\n\r\n'), code: 'HPE_BARE_LF', status: 400 },
  { name: 'LF ending a chunk extension', raw: body('2;a=b\nxx\r\n0\r\n\r\n'), code: 'HPE_BARE_LF', status: 400 },
  { name: 'CR alone ending the size line', raw: body('5\rhello\r\n0\r\n\r\n'), code: 'HPE_BARE_CR', status: 400 },
  {
    name: 'chunk-data longer than its size (TERM.EXT)',
    raw: body(`2\r\nxxx\r\n0\r\n\r\n${SMUGGLED}`),
    code: 'HPE_INVALID_CHUNK_FRAMING',
    status: 400,
  },
  {
    name: 'chunk-data shorter than its size',
    raw: body('6\r\nhello\r\n0\r\n\r\n'),
    code: 'HPE_INVALID_CHUNK_FRAMING',
    status: 400,
  },
  {
    name: 'two-byte terminator replaced by other bytes',
    raw: body('2\r\nxxXX0\r\n\r\n'),
    code: 'HPE_INVALID_CHUNK_FRAMING',
    status: 400,
  },
  {
    name: 'NUL in the size line',
    raw: body('5\x00\r\nhello\r\n0\r\n\r\n'),
    code: 'HPE_INVALID_CHUNK_SIZE',
    status: 400,
  },
  { name: 'non-hex size', raw: body('5g\r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  { name: 'empty size', raw: body('\r\nhello\r\n0\r\n\r\n'), code: 'HPE_INVALID_CHUNK_SIZE', status: 400 },
  {
    name: 'unterminated quoted extension',
    raw: body('5;a="\r\nhello\r\n0\r\n\r\n'),
    code: 'HPE_INVALID_CHUNK_SIZE',
    status: 400,
  },
  {
    name: 'oversized chunk extension (CVE-2024-22019)',
    raw: body(`1;${'a'.repeat(5000)}\r\nx\r\n0\r\n\r\n`),
    code: 'HPE_CHUNK_EXT_TOO_LARGE',
    status: 400,
  },
  {
    name: 'obs-folded trailer',
    raw: body('0\r\nX-Trailer: a\r\n Transfer-Encoding: chunked\r\n\r\n'),
    code: 'HPE_INVALID_TRAILER',
    status: 400,
  },
  { name: 'NUL in a trailer', raw: body('0\r\nX: a\x00\r\n\r\n'), code: 'HPE_INVALID_TRAILER', status: 400 },
  {
    name: 'request smuggled inside an endless trailer section',
    raw: body(`0\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400)}\r\n`),
    code: 'HPE_TRAILER_TOO_LARGE',
    status: 400,
  },
];

for (const payload of PAYLOADS) {
  test(`refuses ${payload.name}`, () => assertRefused(payload));
}

test('chunk framing errors in responses carry 502', () => {
  assertRefused(
    {
      name: 'response with LF-only chunk line',
      raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
      code: 'HPE_BARE_LF',
      status: 502,
    },
    false,
  );
});
