import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Field, ParsedHead, TargetForm } from '../../src/http1/index.js';
import { assertParseError, fields, parseRequest, parseResponse } from './helpers.js';

test('a simple request parses into method, target, fields and derived facts', () => {
  const raw = 'POST /a?b=c HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-Thing:  v  \r\n\r\n';
  const h = parseRequest(raw);
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/a?b=c');
  assert.equal(h.versionMinor, 1);
  assert.equal(h.headBytes, raw.length);
  assert.equal(h.text, raw);
  assert.deepEqual(fields(h), [
    ['Host', 'example.com'],
    ['Content-Length', '5'],
    ['X-Thing', 'v'],
  ]);
  assert.deepEqual(h.kinds.slice(0, h.count), [Field.Host, Field.ContentLength, Field.Other]);
  assert.equal(h.contentLength, 5);
  assert.equal(h.host, 'example.com');
  assert.equal(h.chunked, false);
  assert.equal(h.startLineEnd, 'POST /a?b=c HTTP/1.1\r\n'.length);
  assert.equal(raw.slice(h.lineStart[2], h.lineEnd[2]), 'X-Thing:  v  \r\n');
});

test('absolute-form is rewritten to origin-form with its authority kept apart', () => {
  const h = parseRequest('GET http://Example.com:8080?q=1 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(h.target, '/?q=1');
  assert.equal(h.absoluteAuthority, 'Example.com:8080');
  assert.equal(h.targetForm, TargetForm.Absolute);
});

test('a bare LF, a CL+TE pair and a missing Host are refused', () => {
  assertParseError(() => parseRequest('GET / HTTP/1.1\nHost: a\n\n'), 'HPE_BARE_LF', 400);
  assertParseError(
    () => parseRequest('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'),
    'HPE_CL_TE',
    400,
  );
  assertParseError(() => parseRequest('GET / HTTP/1.1\r\n\r\n'), 'HPE_MISSING_HOST', 400);
});

test('a response parses into status, reason and keep-alive timeout', () => {
  const h = parseResponse('HTTP/1.1 404 Not Found\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n');
  assert.equal(h.statusCode, 404);
  assert.equal(h.reason, 'Not Found');
  assert.equal(h.keepAliveTimeoutS, 5);
  assert.equal(h.contentLength, 0);
});

test('a reused ParsedHead forgets the previous message', () => {
  const out = new ParsedHead();
  parseRequest('GET / HTTP/1.1\r\nHost: a\r\nConnection: close, x-foo\r\nContent-Length: 1\r\n\r\n', undefined, out);
  parseRequest('GET /b HTTP/1.1\r\nHost: b\r\n\r\n', undefined, out);
  assert.equal(out.count, 1);
  assert.equal(out.connectionClose, false);
  assert.deepEqual(out.connectionTokens, []);
  assert.equal(out.contentLength, -1);
});
