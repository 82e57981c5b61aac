import { test } from 'node:test';
import { assertRefused, type Payload } from './corpus.js';

// Heads that parsers split or join differently: bare CR and LF line ends, NUL and other CTLs,
// obs-fold, whitespace before the colon, Host confusion and HTTP/0.9 downgrades (RFC 9112 §2.2,
// §3.2, §5.1, §5.2; RFC 9110 §5.5).
const PAYLOADS: Payload[] = [
  {
    name: 'bare LF ends a field line, hiding a second Host',
    raw: 'GET / HTTP/1.1\r\nHost: public\nHost: internal\r\n\r\n',
    code: 'HPE_BARE_LF',
    status: 400,
  },
  {
    name: 'bare CR ends a field line',
    raw: 'GET / HTTP/1.1\r\nHost: public\rX-Admin: 1\r\n\r\n',
    code: 'HPE_BARE_CR',
    status: 400,
  },
  {
    name: 'bare LF request line (HTTP/0.9-style client)',
    raw: 'GET / HTTP/1.1\nHost: public\n\n',
    code: 'HPE_BARE_LF',
    status: 400,
  },
  { name: 'HTTP/0.9 request line', raw: 'GET /admin\r\n\r\n', code: 'HPE_INVALID_VERSION', status: 400 },
  {
    name: 'NUL in a value truncated by C back ends',
    raw: 'GET / HTTP/1.1\r\nHost: public\r\nX-User: guest\x00admin\r\n\r\n',
    code: 'HPE_INVALID_HEADER_VALUE',
    status: 400,
  },
  {
    name: 'NUL in the target',
    raw: 'GET /public\x00/../admin HTTP/1.1\r\nHost: public\r\n\r\n',
    code: 'HPE_INVALID_TARGET',
    status: 400,
  },
  {
    name: 'obs-fold continues a Host',
    raw: 'GET / HTTP/1.1\r\nHost: public\r\n internal\r\n\r\n',
    code: 'HPE_OBS_FOLD',
    status: 400,
  },
  {
    name: 'whitespace-led first field line',
    raw: 'GET / HTTP/1.1\r\n Host: internal\r\nHost: public\r\n\r\n',
    code: 'HPE_OBS_FOLD',
    status: 400,
  },
  {
    name: 'Host<SP>: that some parsers ignore',
    raw: 'GET / HTTP/1.1\r\nHost : internal\r\nHost: public\r\n\r\n',
    code: 'HPE_WS_BEFORE_COLON',
    status: 400,
  },
  {
    name: 'two Host lines',
    raw: 'GET / HTTP/1.1\r\nHost: public\r\nHost: internal\r\n\r\n',
    code: 'HPE_MULTIPLE_HOST',
    status: 400,
  },
  {
    name: 'Host with userinfo',
    raw: 'GET / HTTP/1.1\r\nHost: public@internal\r\n\r\n',
    code: 'HPE_INVALID_HOST',
    status: 400,
  },
  {
    name: 'Host with a path',
    raw: 'GET / HTTP/1.1\r\nHost: internal/admin?\r\n\r\n',
    code: 'HPE_INVALID_HOST',
    status: 400,
  },
  {
    name: 'absolute-form with userinfo',
    raw: 'GET http://public@internal/ HTTP/1.1\r\nHost: public\r\n\r\n',
    code: 'HPE_INVALID_TARGET',
    status: 400,
  },
  {
    name: 'request line with two spaces',
    raw: 'GET  /admin HTTP/1.1\r\nHost: public\r\n\r\n',
    code: 'HPE_INVALID_TARGET',
    status: 400,
  },
  {
    name: 'HTAB separating request-line parts',
    raw: 'GET /public\tHTTP/1.1\r\nHost: public\r\n\r\n',
    code: 'HPE_INVALID_TARGET',
    status: 400,
  },
  {
    name: 'response header injected through a CR in a value',
    raw: 'HTTP/1.1 200 OK\r\nX-Echo: a\rSet-Cookie: session=evil\r\n\r\n',
    code: 'HPE_BARE_CR',
    status: 502,
  },
];

for (const payload of PAYLOADS) {
  test(`refuses ${payload.name}`, () => assertRefused(payload, payload.raw.startsWith('GET')));
}
