import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { equalsLowercase, Field } from '../../src/http1/index.js';
import { parseRequest, parseResponse } from './helpers.js';

test('hop-by-hop fields and the fields Connection names are reported', () => {
  const h = parseRequest(
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret, content-length, Host, transfer-encoding\r\n' +
      'Keep-Alive: timeout=5\r\nProxy-Connection: close\r\nTE: trailers\r\nUpgrade: h2c\r\nx-secret: 1\r\n' +
      'X-Other: 2\r\nTrailer: X-T\r\nVia: 1.1 a\r\n\r\n',
  );
  const hop = new Map<string, boolean>();
  for (let i = 0; i < h.count; i++) hop.set(h.names[i]!, h.isHopByHop(i));
  assert.deepEqual(Object.fromEntries(hop), {
    Host: false,
    Connection: true,
    'Keep-Alive': true,
    'Proxy-Connection': true,
    TE: true,
    Upgrade: true,
    'x-secret': true,
    'X-Other': false,
    Trailer: false,
    Via: false,
  });
});

test('Content-Length and Transfer-Encoding are never hop-by-hop, even when Connection names them', () => {
  const cl = parseRequest('POST / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: 3\r\n\r\n');
  assert.equal(cl.kinds[2], Field.ContentLength);
  assert.equal(cl.isHopByHop(2), false);
  const te = parseResponse('HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.equal(te.isHopByHop(1), false);
});

test('get() returns the first value of a kind', () => {
  const h = parseRequest('GET / HTTP/1.1\r\nHost: a\r\nVia: 1\r\nVia: 2\r\n\r\n');
  assert.equal(h.get(Field.Via), '1');
  assert.equal(h.get(Field.Forwarded), undefined);
});

test('equalsLowercase folds ASCII letters only', () => {
  assert.equal(equalsLowercase('X-Secret', 'x-secret'), true);
  assert.equal(equalsLowercase('X-Secre', 'x-secret'), false);
  assert.equal(equalsLowercase('\xc9', '\xe9'), false);
});
