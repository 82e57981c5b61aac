import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ERROR_TYPES,
  type ErrorResponse,
  type Failure,
  failureOf,
  proxyStatusValue,
  renderErrorResponse,
} from '../../src/diagnose/index.js';

/** A failure full of internal facts that must never reach a client unless verbose. */
function refused(overrides: Partial<Failure> = {}): Failure {
  return {
    ...failureOf(
      'connection_refused',
      'backend_down',
      'ECONNREFUSED',
      'connect() to 10.20.30.40:5001 failed (ECONNREFUSED: connection refused) while connecting to upstream',
      { phase: 'connect', upstream: 'billing-internal', server: '10.20.30.40:5001', attempt: 2 },
    ),
    ...overrides,
  };
}

const INTERNAL_STRINGS = ['10.20.30.40', '5001', 'billing-internal', 'ECONNREFUSED', 'connect()'];

function header(response: ErrorResponse, name: string): string | undefined {
  const found = response.headers.filter(([key]) => key.toLowerCase() === name.toLowerCase());
  assert.ok(found.length <= 1, `${name} appears ${found.length} times`);
  return found[0]?.[1];
}

const BASE = { requestId: 'req-7f3a', verbose: false, method: 'GET' } as const;

/** A minimal RFC 8941 parser for one list member with parameters: enough to check what we emit. */
function parseProxyStatus(value: string): { name: string; params: Map<string, string> } {
  let at = 0;
  const token = (): string => {
    const match = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(value.slice(at));
    assert.ok(match, `token expected at ${at} in ${value}`);
    at += match[0].length;
    return match[0];
  };
  const name = token();
  const params = new Map<string, string>();
  while (at < value.length) {
    assert.equal(value[at], ';', `';' expected at ${at} in ${value}`);
    at++;
    while (value[at] === ' ') at++;
    const key = /^[a-z*][a-z0-9_\-.*]*/.exec(value.slice(at))?.[0];
    assert.ok(key, `key expected at ${at}`);
    at += key.length;
    assert.equal(value[at], '=');
    at++;
    if (value[at] === '"') {
      at++;
      let text = '';
      for (;;) {
        const char = value[at++];
        assert.ok(char !== undefined, 'unterminated sf-string');
        if (char === '"') break;
        if (char === '\\') {
          const escaped = value[at++];
          assert.ok(escaped === '"' || escaped === '\\', `bad escape \\${escaped}`);
          text += escaped;
          continue;
        }
        const code = char.charCodeAt(0);
        assert.ok(code >= 0x20 && code <= 0x7e, `character ${code} not allowed in an sf-string`);
        text += char;
      }
      params.set(key, text);
    } else {
      params.set(key, token());
    }
  }
  return { name, params };
}

test('Accept: application/json, problem+json or any +json gets RFC 9457 problem details', () => {
  for (const accept of [
    'application/json',
    'application/problem+json',
    'application/vnd.acme.order+json; charset=utf-8',
  ]) {
    const response = renderErrorResponse(refused(), { ...BASE, accept });
    assert.equal(response.status, 502);
    assert.equal(header(response, 'Content-Type'), 'application/problem+json', accept);
    assert.equal(header(response, 'Content-Length'), String(response.body.length));
    const problem = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(problem).sort(), [
      'cause',
      'detail',
      'hint',
      'proxy_status',
      'request_id',
      'status',
      'title',
      'type',
    ]);
    assert.equal(problem['type'], 'https://gatewise.dev/errors/connection_refused');
    assert.equal(problem['title'], ERROR_TYPES.connection_refused.title);
    assert.equal(problem['status'], 502);
    assert.equal(problem['detail'], ERROR_TYPES.connection_refused.explanation);
    assert.equal(problem['proxy_status'], 'connection_refused');
    assert.equal(problem['cause'], 'backend_down');
    assert.equal(problem['hint'], refused().hint);
    assert.equal(problem['request_id'], 'req-7f3a');
  }
});

test('verbose problem details add the detail line, upstream, server, phase and code', () => {
  const response = renderErrorResponse(refused(), { ...BASE, accept: 'application/json', verbose: true });
  const problem = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  assert.equal(problem['detail'], refused().detail);
  assert.equal(problem['upstream'], 'billing-internal');
  assert.equal(problem['server'], '10.20.30.40:5001');
  assert.equal(problem['phase'], 'connect');
  assert.equal(problem['code'], 'ECONNREFUSED');
});

test('browsers get a self-contained HTML page with every value escaped', () => {
  const failure = refused({
    detail: 'upstream sent <script>alert("x")</script> & \'more\'',
    server: '<img src=x onerror=alert(1)>',
    upstream: 'a&b',
  });
  const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8';
  for (const verbose of [false, true]) {
    const response = renderErrorResponse(failure, { ...BASE, requestId: 'id-"<b>"', accept, verbose });
    assert.equal(header(response, 'Content-Type'), 'text/html; charset=utf-8');
    const html = response.body.toString('utf8');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<style>[^<]+<\/style>/, 'inline CSS');
    assert.match(html, /502 Bad Gateway/);
    assert.match(html, /Connection refused/);
    assert.match(html, /backend_down/);
    assert.match(html, /id-&quot;&lt;b&gt;&quot;/, 'request id escaped');
    // Only the page's own plain elements, none with attributes that load anything.
    for (const tag of html.match(/<[^>]*>/g) ?? []) {
      assert.match(
        tag,
        /^<\/?(!doctype html|html(?: lang="en")?|head|meta [^>]*|title|style|body|main|p( class="status")?|h1|dl|dt|dd|code|footer)>$/,
        tag,
      );
      assert.doesNotMatch(tag, /\b(src|href|on\w+)=/i, tag);
    }
    assert.doesNotMatch(html, /url\(|@import|https?:\/\//i);
    if (verbose) {
      assert.match(html, /upstream sent &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; &#39;more&#39;/);
      assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
      assert.match(html, /a&amp;b/);
    }
  }
});

test('anything else gets plain text; weights decide between formats', () => {
  for (const accept of ['', '*/*', 'text/plain', 'image/png', 'text/*;q=0.3']) {
    const response = renderErrorResponse(refused(), { ...BASE, accept });
    assert.equal(header(response, 'Content-Type'), 'text/plain; charset=utf-8', `Accept: ${accept}`);
    const text = response.body.toString('utf8');
    assert.match(text, /^502 Bad Gateway: Connection refused\n/);
    assert.match(text, /Likely cause: backend_down/);
    assert.match(text, /Request id: req-7f3a/);
  }
  const contentType = (accept: string) => header(renderErrorResponse(refused(), { ...BASE, accept }), 'Content-Type');
  assert.equal(contentType('application/json;q=0.5, text/html'), 'text/html; charset=utf-8');
  assert.equal(contentType('text/html;q=0, application/json'), 'application/problem+json');
  assert.equal(contentType('application/json, text/html'), 'application/problem+json');
  assert.equal(contentType('TEXT/HTML'), 'text/html; charset=utf-8');
});

test('HEAD gets the same headers, Content-Length included, and an empty body', () => {
  for (const accept of ['application/json', 'text/html', '']) {
    const get = renderErrorResponse(refused(), { ...BASE, accept });
    const head = renderErrorResponse(refused(), { ...BASE, accept, method: 'HEAD' });
    assert.equal(head.body.length, 0);
    assert.ok(get.body.length > 0);
    assert.deepEqual(head.headers, get.headers);
    assert.equal(header(head, 'Content-Length'), String(get.body.length));
  }
});

test('without verbose nothing internal leaks: no address, upstream name or error code anywhere', () => {
  const failures = [
    refused(),
    refused({ type: 'connection_read_timeout', status: 504, code: 'GW_READ_TIMEOUT', phase: 'read_head' }),
    refused({ type: 'tls_certificate_error', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', phase: 'tls' }),
  ];
  for (const failure of failures) {
    for (const accept of ['application/json', 'text/html', 'text/plain']) {
      const response = renderErrorResponse(failure, { ...BASE, accept });
      const everything = `${response.headers.map(([name, value]) => `${name}: ${value}`).join('\n')}\n${response.body}`;
      for (const internal of [...INTERNAL_STRINGS, failure.code]) {
        assert.ok(!everything.includes(internal), `${failure.type} as ${accept} leaks ${internal}`);
      }
    }
  }
  const verbose = renderErrorResponse(refused(), { ...BASE, accept: 'text/plain', verbose: true });
  for (const internal of INTERNAL_STRINGS) assert.ok(verbose.body.toString().includes(internal), internal);
});

test('Proxy-Status is an RFC 9209 member; details and next-hop are valid sf-strings', () => {
  assert.equal(proxyStatusValue(refused(), false), 'gatewise; error=connection_refused');
  const plain = parseProxyStatus(proxyStatusValue(refused(), true));
  assert.equal(plain.name, 'gatewise');
  assert.equal(plain.params.get('error'), 'connection_refused');
  assert.equal(plain.params.get('details'), refused().detail);
  assert.equal(plain.params.get('next-hop'), '10.20.30.40:5001');

  const nasty = refused({ detail: 'say "hi" \\ back\r\nInjected: yes\t\u0000é✓ end', server: 'unix:/run/"a".sock' });
  const value = proxyStatusValue(nasty, true);
  assert.doesNotMatch(value, /[\r\n\0]/);
  const parsed = parseProxyStatus(value);
  assert.equal(parsed.params.get('details'), 'say "hi" \\ backInjected: yes end');
  assert.equal(parsed.params.get('next-hop'), 'unix:/run/"a".sock');

  const response = renderErrorResponse(nasty, { ...BASE, accept: '', verbose: true });
  assert.equal(header(response, 'Proxy-Status'), value);
  const long = parseProxyStatus(proxyStatusValue(refused({ detail: 'x'.repeat(5000) }), true));
  assert.ok((long.params.get('details') ?? '').length <= 512);
});

test('Retry-After on the 503s: from the failure, else 1 s (limit) or 5 s (no healthy server)', () => {
  const limit = failureOf('connection_limit_reached', 'overload_or_exhaustion', 'GW_LIMIT', 'queue full');
  assert.equal(header(renderErrorResponse(limit, { ...BASE, accept: '' }), 'Retry-After'), '1');
  const none = failureOf('destination_unavailable', 'backend_down', 'GW_NO_SERVER', 'no live upstreams');
  assert.equal(header(renderErrorResponse(none, { ...BASE, accept: '' }), 'Retry-After'), '5');
  const told = { ...none, retryAfterSeconds: 2.5 };
  assert.equal(header(renderErrorResponse(told, { ...BASE, accept: '' }), 'Retry-After'), '3');
  assert.equal(header(renderErrorResponse(refused(), { ...BASE, accept: '' }), 'Retry-After'), undefined);
});

test('the fixed headers: no-store, request id (sanitised), Via when given; statuses follow the failure', () => {
  const response = renderErrorResponse(refused(), {
    ...BASE,
    requestId: 'abc\r\nSet-Cookie: x=1',
    accept: '',
    via: '1.1 gatewise',
  });
  assert.equal(header(response, 'Cache-Control'), 'no-store');
  assert.equal(header(response, 'X-Request-Id'), 'abcSet-Cookie: x=1');
  assert.equal(header(response, 'Via'), '1.1 gatewise');
  for (const [, value] of response.headers) assert.doesNotMatch(value, /[\r\n]/);
  assert.equal(header(renderErrorResponse(refused(), { ...BASE, accept: '' }), 'Via'), undefined);

  const noRoute = failureOf('destination_not_found', 'other', 'GW_NO_ROUTE', 'no route');
  const notFound = renderErrorResponse(noRoute, { ...BASE, accept: 'application/json' });
  assert.equal(notFound.status, 404);
  assert.equal((JSON.parse(notFound.body.toString()) as { status: number }).status, 404);
  const loop = renderErrorResponse(failureOf('proxy_loop_detected', 'wrong_upstream_address', 'GW_LOOP', 'loop'), {
    ...BASE,
    accept: '',
  });
  assert.equal(loop.status, 508);
  assert.match(loop.body.toString(), /^508 Loop Detected: Proxy loop detected/);
});

test('Content-Length counts bytes, not characters', () => {
  const failure = refused({ detail: 'réponse coupée ✓ — 终止' });
  for (const accept of ['application/json', 'text/html', '']) {
    const response = renderErrorResponse(failure, { ...BASE, accept, verbose: true });
    assert.equal(header(response, 'Content-Length'), String(Buffer.byteLength(response.body.toString('utf8'))));
    assert.ok(response.body.toString('utf8').includes('✓'));
  }
});
