import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ChunkedScanner } from '../../src/http1/index.js';
import { assertParseError } from './helpers.js';

test('a chunked body is found to end just past its final CRLF', () => {
  const body = '5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nTrailer-A: 1\r\n\r\n';
  const buf = Buffer.from(`${body}NEXT`, 'latin1');
  const s = new ChunkedScanner();
  assert.equal(s.scan(buf, 0, buf.length), body.length);
  assert.equal(s.dataBytes, 11);
});

test('chunk-size tricks are refused', () => {
  for (const [body, code] of [
    ['0x5\r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['5 \r\nhello\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['ffffffffffffffffff\r\n', 'HPE_CHUNK_OVERFLOW'],
    ['5\nhello\r\n0\r\n\r\n', 'HPE_BARE_LF'],
  ] as const) {
    const s = new ChunkedScanner();
    const buf = Buffer.from(body, 'latin1');
    assertParseError(() => s.scan(buf, 0, buf.length), code, 400);
  }
});
