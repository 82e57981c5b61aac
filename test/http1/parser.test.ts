import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  DEFAULT_HEAD_LIMITS,
  Field,
  findHeadEnd,
  type HeadLimits,
  ParsedHead,
  parseRequestHead,
  TargetForm,
} from '../../src/http1/index.js';
import { assertParseError, fields, parseRequest } from './helpers.js';

const H = 'Host: example.com\r\n';

test('a simple request parses into method, target, fields and derived facts', () => {
  const raw = `POST /a?b=c HTTP/1.1\r\n${H}Content-Length: 5\r\nX-Thing:  v  \r\n\r\n`;
  const h = parseRequest(raw);
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/a?b=c');
  assert.equal(h.targetForm, TargetForm.Origin);
  assert.equal(h.absoluteAuthority, '');
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
  assert.equal(h.hasTransferEncoding, false);
  assert.equal(h.startLineStart, 0);
  assert.equal(h.startLineEnd, 'POST /a?b=c HTTP/1.1\r\n'.length);
  assert.equal(raw.slice(h.lineStart[0], h.lineEnd[0]), H);
  assert.equal(raw.slice(h.lineStart[2], h.lineEnd[2]), 'X-Thing:  v  \r\n');
});

test('the head can start anywhere in a buffer and offsets are relative to text', () => {
  const head = `GET / HTTP/1.1\r\n${H}\r\n`;
  const buf = Buffer.from(`junk${head}body`, 'latin1');
  const end = findHeadEnd(buf, 4, 4, buf.length);
  assert.equal(end, 4 + head.length);
  const h = new ParsedHead();
  parseRequestHead(buf, 4, end, DEFAULT_HEAD_LIMITS, h);
  assert.equal(h.text, head);
  assert.equal(h.lineStart[0], 'GET / HTTP/1.1\r\n'.length);
});

test('HTTP/1.0 needs no Host; fields are optional', () => {
  const h = parseRequest('GET / HTTP/1.0\r\n\r\n');
  assert.equal(h.versionMinor, 0);
  assert.equal(h.count, 0);
  assert.equal(h.host, '');
});

test('every known field name is recognised in any letter case', () => {
  const names: [string, Field][] = [
    ['host', Field.Host],
    ['CONTENT-LENGTH', Field.ContentLength],
    ['Transfer-Encoding', Field.TransferEncoding],
    ['connection', Field.Connection],
    ['Keep-Alive', Field.KeepAlive],
    ['te', Field.TE],
    ['Upgrade', Field.Upgrade],
    ['Proxy-Connection', Field.ProxyConnection],
    ['TRAILER', Field.Trailer],
    ['Expect', Field.Expect],
    ['X-Forwarded-For', Field.XForwardedFor],
    ['x-forwarded-proto', Field.XForwardedProto],
    ['X-Forwarded-Host', Field.XForwardedHost],
    ['Forwarded', Field.Forwarded],
    ['VIA', Field.Via],
    ['X-Request-ID', Field.XRequestId],
    ['Hosts', Field.Other],
    ['Content-Lengths', Field.Other],
    ['Xia', Field.Other],
    ['X-Forwarded-Fox', Field.Other],
    ['Proxy-Connectiom', Field.Other],
  ];
  for (const [name, kind] of names) {
    const value = kind === Field.ContentLength ? '0' : kind === Field.TransferEncoding ? 'chunked' : 'a';
    const host = kind === Field.Host ? '' : H;
    const h = parseRequest(`POST / HTTP/1.1\r\n${host}${name}: ${value}\r\n\r\n`);
    assert.equal(h.kinds[h.count - 1], kind, name);
  }
});

test('values lose leading and trailing OWS only; obs-text and inner HTAB stay', () => {
  const h = parseRequest(`GET / HTTP/1.1\r\n${H}A:\t a\tb \t\r\nB:\r\nC: \xe9\xff\r\nD:x\r\n\r\n`);
  assert.deepEqual(fields(h).slice(1), [
    ['A', 'a\tb'],
    ['B', ''],
    ['C', '\xe9\xff'],
    ['D', 'x'],
  ]);
});

test('absolute-form is rewritten to origin-form with its authority kept apart', () => {
  const cases: [string, string, string, string][] = [
    ['http://Example.com:8080?q=1', '/?q=1', 'Example.com:8080', 'http'],
    ['HTTPS://a.b/x/y?z', '/x/y?z', 'a.b', 'https'],
    ['http://a.b', '/', 'a.b', 'http'],
    ['http://[::1]:80/p', '/p', '[::1]:80', 'http'],
    ['http://127.0.0.1?', '/?', '127.0.0.1', 'http'],
  ];
  for (const [target, origin, authority, scheme] of cases) {
    const h = parseRequest(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(h.target, origin, target);
    assert.equal(h.absoluteAuthority, authority, target);
    assert.equal(h.absoluteScheme, scheme, target);
    assert.equal(h.targetForm, TargetForm.Absolute);
    assert.equal(h.host, 'x', 'Host keeps its own value; the caller prefers absoluteAuthority');
  }
});

test('asterisk-form with OPTIONS and authority-form with CONNECT', () => {
  const o = parseRequest(`OPTIONS * HTTP/1.1\r\n${H}\r\n`);
  assert.equal(o.target, '*');
  assert.equal(o.targetForm, TargetForm.Asterisk);
  const c = parseRequest(`CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n`);
  assert.equal(c.target, 'example.com:443');
  assert.equal(c.targetForm, TargetForm.Authority);
  assert.equal(parseRequest(`CONNECT [::1]:8443 HTTP/1.1\r\n${H}\r\n`).target, '[::1]:8443');
});

test('extension methods that are tokens are accepted', () => {
  for (const method of ['QUERY', 'M-SEARCH', 'x', "!#$%&'*+-.^_`|~"]) {
    assert.equal(parseRequest(`${method} / HTTP/1.1\r\n${H}\r\n`).method, method);
  }
});

test('up to eight empty lines before the request line are skipped and counted in headBytes', () => {
  const raw = `\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`;
  const h = parseRequest(raw);
  assert.equal(h.headBytes, raw.length);
  assert.equal(h.startLineStart, 4);
  assert.equal(h.startLineEnd, 4 + 'GET / HTTP/1.1\r\n'.length);
  assert.equal(h.lineStart[0], h.startLineEnd);
  parseRequest(`${'\r\n'.repeat(8)}GET / HTTP/1.1\r\n${H}\r\n`);
  assertParseError(() => parseRequest(`${'\r\n'.repeat(9)}GET / HTTP/1.1\r\n${H}\r\n`), 'HPE_LEADING_EMPTY_LINES', 400);
});

test('Transfer-Encoding ending in chunked, Connection tokens, Upgrade and Expect are derived', () => {
  const h = parseRequest(
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip;q="a,b" , Chunked\r\nConnection: Keep-Alive, Upgrade,, X-Custom ,close\r\n` +
      'Upgrade: websocket\r\nUpgrade: h2c\r\nExpect: 100-Continue\r\n\r\n',
  );
  assert.equal(h.chunked, true);
  assert.equal(h.hasTransferEncoding, true);
  assert.equal(h.contentLength, -1);
  assert.equal(h.connectionKeepAlive, true);
  assert.equal(h.connectionUpgrade, true);
  assert.equal(h.connectionClose, true);
  assert.deepEqual(h.connectionTokens, ['x-custom']);
  assert.equal(h.upgrade, 'websocket, h2c');
  assert.equal(h.expectContinue, true);
  assert.equal(parseRequest(`POST / HTTP/1.1\r\n${H}Expect: 100-continued\r\n\r\n`).expectContinue, false);
});

test('Content-Length accepts 1*DIGIT with leading zeros up to Number.MAX_SAFE_INTEGER', () => {
  assert.equal(parseRequest(`POST / HTTP/1.1\r\n${H}Content-Length: 007\r\n\r\n`).contentLength, 7);
  assert.equal(parseRequest(`POST / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`).contentLength, 0);
  const max = parseRequest(`POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740991 \r\n\r\n`);
  assert.equal(max.contentLength, Number.MAX_SAFE_INTEGER);
});

const REJECTED: [string, string, string, number][] = [
  ['empty method', ` / HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_METHOD', 400],
  ['method with a delimiter', `GE(T / HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_METHOD', 400],
  ['HTAB after the method', `GET\t/ HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_METHOD', 400],
  ['two SP after the method', `GET  / HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['obs-text in the method', `G\xc9T / HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_METHOD', 400],
  ['two SP before the version', `GET /  HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['HTAB in the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['NUL in the target', `GET /a\x00b HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['DEL in the target', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['fragment in the target', `GET /a#b HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['fragment after the authority', `GET http://a.b#f HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['obs-text in the target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['no target', `GET HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['HTTP/0.9 request line', 'GET /\r\n\r\n', 'HPE_INVALID_VERSION', 400],
  ['relative target', `GET a/b HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['asterisk-form with GET', `GET * HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['authority-form with GET', `GET a.b:80 HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['CONNECT with origin-form', `CONNECT /x HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['CONNECT without port', `CONNECT a.b HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['other scheme', `GET ftp://a.b/ HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['userinfo in absolute-form', `GET http://u:p@a.b/ HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['empty authority', `GET http:///x HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['bad port', `GET http://a.b:8a/ HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['six-digit port', `GET http://a.b:123456/ HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['unclosed IP-literal', `GET http://[::1/ HTTP/1.1\r\n${H}\r\n`, 'HPE_INVALID_TARGET', 400],
  ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 505],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 505],
  ['HTTP/0.9', `GET / HTTP/0.9\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 505],
  ['lowercase http', `GET / http/1.1\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['HTTP/1.10', `GET / HTTP/1.10\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['HTTP/11', `GET / HTTP/11\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['SP after the version', `GET / HTTP/1.1 \r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['RTSP version', `GET / RTSP/1.0\r\n${H}\r\n`, 'HPE_INVALID_VERSION', 400],
  ['bare LF after the request line', `GET / HTTP/1.1\n${H}\r\n`, 'HPE_BARE_LF', 400],
  ['bare LF after a field', `GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n`, 'HPE_BARE_LF', 400],
  ['bare LF as the final line', `GET / HTTP/1.1\r\n${H}\n`, 'HPE_BARE_LF', 400],
  ['bare LF leading line', `\nGET / HTTP/1.1\r\n${H}\r\n`, 'HPE_BARE_LF', 400],
  ['bare CR in a value', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 'HPE_BARE_CR', 400],
  ['bare CR ending a field', `GET / HTTP/1.1\r\n${H}X: a\r\rY: b\r\n\r\n`, 'HPE_BARE_CR', 400],
  ['bare CR ending the request line', `GET / HTTP/1.1\r${H}\r\n`, 'HPE_BARE_CR', 400],
  ['bare CR leading line', `\rGET / HTTP/1.1\r\n${H}\r\n`, 'HPE_BARE_CR', 400],
  ['obs-fold', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 'HPE_OBS_FOLD', 400],
  ['obs-fold with HTAB', `GET / HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`, 'HPE_OBS_FOLD', 400],
  ['whitespace before the first field', `GET / HTTP/1.1\r\n ${H}\r\n`, 'HPE_OBS_FOLD', 400],
  ['SP before the colon', `GET / HTTP/1.1\r\n${H}X : a\r\n\r\n`, 'HPE_WS_BEFORE_COLON', 400],
  ['HTAB before the colon', `GET / HTTP/1.1\r\n${H}X\t: a\r\n\r\n`, 'HPE_WS_BEFORE_COLON', 400],
  ['empty field name', `GET / HTTP/1.1\r\n${H}: a\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN', 400],
  ['field without colon', `GET / HTTP/1.1\r\n${H}Xa\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN', 400],
  ['delimiter in a field name', `GET / HTTP/1.1\r\n${H}X(a): b\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN', 400],
  ['obs-text in a field name', `GET / HTTP/1.1\r\n${H}X\xe9: b\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN', 400],
  ['NUL in a field name', `GET / HTTP/1.1\r\n${H}X\x00: b\r\n\r\n`, 'HPE_INVALID_HEADER_TOKEN', 400],
  ['NUL in a value', `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE', 400],
  ['VT in a value', `GET / HTTP/1.1\r\n${H}X: a\x0bb\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE', 400],
  ['DEL in a value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE', 400],
  ['ESC at the end of a value', `GET / HTTP/1.1\r\n${H}X: a\x1b\r\n\r\n`, 'HPE_INVALID_HEADER_VALUE', 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n', 'HPE_MISSING_HOST', 400],
  ['absolute-form without Host', 'GET http://a.b/ HTTP/1.1\r\n\r\n', 'HPE_MISSING_HOST', 400],
  ['two Host lines', `GET / HTTP/1.1\r\n${H}${H}\r\n`, 'HPE_MULTIPLE_HOST', 400],
  ['two Host lines in HTTP/1.0', `GET / HTTP/1.0\r\n${H}host: b\r\n\r\n`, 'HPE_MULTIPLE_HOST', 400],
  ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'HPE_INVALID_HOST', 400],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', 'HPE_INVALID_HOST', 400],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 'HPE_INVALID_HOST', 400],
  ['Host with a bad port', 'GET / HTTP/1.1\r\nHost: a:b\r\n\r\n', 'HPE_INVALID_HOST', 400],
  ['Host with a list', 'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', 'HPE_INVALID_HOST', 400],
  ['empty Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n`, 'HPE_INVALID_CL', 400],
  ['signed Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`, 'HPE_INVALID_CL', 400],
  ['negative Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 'HPE_INVALID_CL', 400],
  ['hex Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\n`, 'HPE_INVALID_CL', 400],
  ['Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\n`, 'HPE_INVALID_CL', 400],
  ['Content-Length with inner SP', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\n`, 'HPE_INVALID_CL', 400],
  [
    'Content-Length past MAX_SAFE_INTEGER',
    `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`,
    'HPE_INVALID_CL',
    400,
  ],
  [
    'Content-Length of twenty digits',
    `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`,
    'HPE_INVALID_CL',
    400,
  ],
  [
    'Content-Length twice, same value',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`,
    'HPE_DUPLICATE_CL',
    400,
  ],
  [
    'Content-Length twice, different values',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\ncontent-length: 6\r\n\r\n`,
    'HPE_CL_MISMATCH',
    400,
  ],
  [
    'Content-Length and Transfer-Encoding',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
    'HPE_CL_TE',
    400,
  ],
  [
    'Transfer-Encoding and Content-Length',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`,
    'HPE_CL_TE',
    400,
  ],
  ['TE gzip only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 'HPE_TE_NOT_CHUNKED', 501],
  ['TE identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 'HPE_TE_NOT_CHUNKED', 501],
  ['TE xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, 'HPE_TE_NOT_CHUNKED', 501],
  ['TE chunked then gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 'HPE_INVALID_TE', 400],
  ['TE chunked twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 'HPE_INVALID_TE', 400],
  [
    'TE chunked in two lines',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`,
    'HPE_INVALID_TE',
    400,
  ],
  [
    'TE chunked then identity in two lines',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`,
    'HPE_INVALID_TE',
    400,
  ],
  ['TE empty element', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n`, 'HPE_INVALID_TE', 400],
  ['TE trailing comma', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n`, 'HPE_INVALID_TE', 400],
  ['TE empty', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\n\r\n`, 'HPE_INVALID_TE', 400],
  ['TE quoted', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n`, 'HPE_INVALID_TE', 400],
  ['TE with inner space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chun ked\r\n\r\n`, 'HPE_INVALID_TE', 400],
  ['TE chunked with parameter', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;a=1\r\n\r\n`, 'HPE_INVALID_TE', 400],
  [
    'TE parameter without value',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip;a, chunked\r\n\r\n`,
    'HPE_INVALID_TE',
    400,
  ],
  [
    'TE unterminated quote',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip;a="x, chunked\r\n\r\n`,
    'HPE_INVALID_TE',
    400,
  ],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_TE_HTTP10', 400],
];

test('requests breaking RFC 9112 are refused with the right code and status', () => {
  for (const [what, raw, code, status] of REJECTED) {
    assert.doesNotThrow(() => {
      assertParseError(() => parseRequest(raw), code, status);
    }, what);
  }
});

test('the request line limit answers 414, the head limit and field count 431', () => {
  const limits: HeadLimits = { maxHeadBytes: 200, maxRequestLineBytes: 40, maxHeaders: 3 };
  const line = (n: number): string => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
  assert.equal(line(40).length, 40);
  parseRequest(`${line(40)}\r\n${H}\r\n`, limits);
  assertParseError(() => parseRequest(`${line(41)}\r\n${H}\r\n`, limits), 'HPE_URI_TOO_LONG', 414);
  assertParseError(
    () => parseRequest(`GET / HTTP/1.1\r\n${H}X: ${'v'.repeat(200)}\r\n\r\n`, limits),
    'HPE_HEAD_TOO_LARGE',
    431,
  );
  parseRequest(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\n\r\n`, limits);
  assertParseError(
    () => parseRequest(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, limits),
    'HPE_TOO_MANY_HEADERS',
    431,
  );
  const exact = `GET / HTTP/1.1\r\n${H}X: ${'v'.repeat(200 - 16 - H.length - 7)}\r\n\r\n`;
  assert.equal(exact.length, 200);
  parseRequest(exact, limits);
});

test('the default limits are 16384 head bytes, 8192 request-line bytes and 100 fields', () => {
  assert.deepEqual({ ...DEFAULT_HEAD_LIMITS }, { maxHeadBytes: 16384, maxRequestLineBytes: 8192, maxHeaders: 100 });
  const many = Array.from({ length: 99 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
  assert.equal(parseRequest(`GET / HTTP/1.1\r\n${H}${many}\r\n`).count, 100);
  assertParseError(() => parseRequest(`GET / HTTP/1.1\r\n${H}${many}Y: 1\r\n\r\n`), 'HPE_TOO_MANY_HEADERS', 431);
});

test('a reused ParsedHead forgets the previous message', () => {
  const out = new ParsedHead();
  parseRequest(
    `POST http://a.b/x HTTP/1.1\r\n${H}Connection: close, x-foo\r\nTransfer-Encoding: chunked\r\nUpgrade: ws\r\n` +
      'Expect: 100-continue\r\n\r\n',
    undefined,
    out,
  );
  const names = out.names;
  parseRequest('GET /b HTTP/1.0\r\n\r\n', undefined, out);
  assert.equal(out.names, names, 'arrays are kept');
  assert.equal(out.count, 0);
  assert.equal(out.connectionClose, false);
  assert.deepEqual(out.connectionTokens, []);
  assert.equal(out.contentLength, -1);
  assert.equal(out.chunked, false);
  assert.equal(out.hasTransferEncoding, false);
  assert.equal(out.upgrade, '');
  assert.equal(out.expectContinue, false);
  assert.equal(out.absoluteAuthority, '');
  assert.equal(out.targetForm, TargetForm.Origin);
  assert.equal(out.host, '');
  assert.equal(out.versionMinor, 0);
});

test('a failed parse leaves nothing of the previous message behind', () => {
  const out = new ParsedHead();
  parseRequest(`GET /a HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\n`, undefined, out);
  assertParseError(
    () => parseRequest(`GET /b HTTP/1.1\r\n${H}X: \x00\r\n\r\n`, undefined, out),
    'HPE_INVALID_HEADER_VALUE',
    400,
  );
  assert.equal(out.contentLength, -1);
  assert.equal(out.count, 0);
});
