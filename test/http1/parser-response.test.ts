import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { assertParseError, fields, parseResponse } from './helpers.js';

test('a response parses into version, status, reason, fields and keep-alive timeout', () => {
  const raw =
    'HTTP/1.0 404 Not  Found\r\nKeep-Alive: max=100, Timeout=5\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n';
  const h = parseResponse(raw);
  assert.equal(h.versionMinor, 0);
  assert.equal(h.statusCode, 404);
  assert.equal(h.reason, 'Not  Found');
  assert.equal(h.keepAliveTimeoutS, 5);
  assert.equal(h.contentLength, 0);
  assert.equal(h.connectionKeepAlive, true);
  assert.equal(h.headBytes, raw.length);
  assert.equal(h.startLineEnd, 'HTTP/1.0 404 Not  Found\r\n'.length);
  assert.deepEqual(fields(h)[0], ['Keep-Alive', 'max=100, Timeout=5']);
});

test('reasons may be empty, missing, or hold HTAB and obs-text; statuses run 100-999', () => {
  assert.equal(parseResponse('HTTP/1.1 200 \r\n\r\n').reason, '');
  assert.equal(parseResponse('HTTP/1.1 204\r\n\r\n').reason, '');
  assert.equal(parseResponse('HTTP/1.1 200 \xe9t\xe9\tok\r\n\r\n').reason, '\xe9t\xe9\tok');
  assert.equal(parseResponse('HTTP/1.1 100 Continue\r\n\r\n').statusCode, 100);
  assert.equal(parseResponse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n').upgrade, 'websocket');
  assert.equal(parseResponse('HTTP/1.1 999 Whatever\r\n\r\n').statusCode, 999);
});

test('a response Transfer-Encoding not ending in chunked means a close-delimited body', () => {
  for (const te of ['gzip', 'chunked, gzip', 'identity']) {
    const h = parseResponse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n`);
    assert.equal(h.hasTransferEncoding, true, te);
    assert.equal(h.chunked, false, te);
  }
  const c = parseResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
  assert.equal(c.chunked, true);
});

test('a Keep-Alive without a numeric timeout leaves keepAliveTimeoutS at -1', () => {
  assert.equal(parseResponse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=abc\r\n\r\n').keepAliveTimeoutS, -1);
  assert.equal(parseResponse('HTTP/1.1 200 OK\r\nKeep-Alive: max=5\r\n\r\n').keepAliveTimeoutS, -1);
  assert.equal(parseResponse('HTTP/1.1 200 OK\r\n\r\n').keepAliveTimeoutS, -1);
});

test('responses need no Host and may carry several', () => {
  assert.equal(parseResponse('HTTP/1.1 200 OK\r\nHost: a\r\nHost: b c\r\n\r\n').count, 2);
});

const REJECTED: [string, string, string][] = [
  ['lowercase version', 'http/1.1 200 OK\r\n\r\n', 'HPE_INVALID_VERSION'],
  ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', 'HPE_INVALID_VERSION'],
  ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', 'HPE_INVALID_VERSION'],
  ['no space after version', 'HTTP/1.1200 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['two spaces after version', 'HTTP/1.1  200 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['status below 100', 'HTTP/1.1 099 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['letter in status', 'HTTP/1.1 2O0 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['HTAB after status', 'HTTP/1.1 200\tOK\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['CTL in reason', 'HTTP/1.1 200 O\x01K\r\n\r\n', 'HPE_INVALID_STATUS'],
  ['bare LF after status line', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 'HPE_BARE_LF'],
  ['bare CR after status line', 'HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n', 'HPE_BARE_CR'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 'HPE_OBS_FOLD'],
  ['space before colon', 'HTTP/1.1 200 OK\r\nX : a\r\n\r\n', 'HPE_WS_BEFORE_COLON'],
  ['NUL in value', 'HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n', 'HPE_INVALID_HEADER_VALUE'],
  ['CL and TE', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_CL_TE'],
  ['CL and non-chunked TE', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n', 'HPE_CL_TE'],
  ['CL twice', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 'HPE_DUPLICATE_CL'],
  ['CL conflicting', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'HPE_CL_MISMATCH'],
  ['CL not digits', 'HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n', 'HPE_INVALID_CL'],
  ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'HPE_INVALID_TE'],
  ['TE in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_TE_HTTP10'],
];

test('malformed responses are refused with status 502', () => {
  for (const [what, raw, code] of REJECTED) {
    assert.doesNotThrow(() => assertParseError(() => parseResponse(raw), code, 502), what);
  }
});

test('response limits answer 502 too', () => {
  const limits = { maxHeadBytes: 100, maxRequestLineBytes: 10, maxHeaders: 2 };
  parseResponse('HTTP/1.1 200 A very long reason phrase that is longer than the request line limit\r\n\r\n', limits);
  assertParseError(
    () => parseResponse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}\r\n\r\n`, limits),
    'HPE_HEAD_TOO_LARGE',
    502,
  );
  assertParseError(
    () => parseResponse('HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', limits),
    'HPE_TOO_MANY_HEADERS',
    502,
  );
});
