/**
 * A real nginx (Debian's package, its own prefix, config and port) in front of real broken backends:
 * each scenario makes nginx write its own error-log line, and explain must name the error type and
 * the cause from that line alone.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Explanation, explainLine } from '../../../src/diagnose/explain/index.js';
import { freePort, startNginx } from '../../support/nginx.js';
import { get } from '../../support/raw-client.js';
import { startBrokenUpstreams } from './broken-upstreams.js';

interface Scenario {
  name: string;
  path: string;
  /** The error type explain must give. */
  error: string;
  /** The first cause, when one line is enough to rank it first. */
  top?: string;
  /** A cause explain must name among its ranked causes. */
  named: string;
  status: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'refused',
    path: '/refused',
    error: 'connection_refused',
    top: 'backend_down',
    named: 'backend_down',
    status: 502,
  },
  // The line is the same as for a stopped backend: explain ranks the wrong address second.
  {
    name: 'wrong port',
    path: '/wrong-port',
    error: 'connection_refused',
    named: 'wrong_upstream_address',
    status: 502,
  },
  {
    name: 'slow backend',
    path: '/slow',
    error: 'connection_read_timeout',
    top: 'slow_backend',
    named: 'slow_backend',
    status: 504,
  },
  // A TLS server closes a plain request without a byte: the line is the same as for a crash.
  {
    name: 'http:// to a TLS backend',
    path: '/http-to-tls',
    error: 'connection_terminated',
    named: 'tls_mismatch',
    status: 502,
  },
  {
    name: 'https:// to a plain backend',
    path: '/https-to-plain',
    error: 'tls_protocol_error',
    top: 'tls_mismatch',
    named: 'tls_mismatch',
    status: 502,
  },
  {
    name: 'missing unix socket',
    path: '/unix',
    error: 'destination_not_found',
    top: 'wrong_upstream_address',
    named: 'wrong_upstream_address',
    status: 502,
  },
  {
    name: 'oversized response header',
    path: '/huge',
    error: 'http_response_header_section_size',
    top: 'buffer_or_limit_config',
    named: 'buffer_or_limit_config',
    status: 502,
  },
];

/** The error-level lines nginx wrote for one request path (waits briefly: nginx may log after replying). */
async function linesFor(errorLog: string, path: string): Promise<string[]> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const lines = readFileSync(errorLog, 'utf8')
      .split('\n')
      .filter((line) => line.includes(`request: "GET ${path} HTTP/1.1"`) && / \[(?:error|crit)\] /.test(line));
    if (lines.length > 0 || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('explain names the error and cause of every failure a real nginx logs', async (t) => {
  // The wrong-port scenario: the backend listens on ok.port, nginx is told another, free port.
  const { dir, refused, ok, hang, tls, huge, wrongPort } = await startBrokenUpstreams(t, 'nginx', 8192);
  const missingSocket = join(dir, 'app.sock');
  const port = await freePort();
  const nginx = await startNginx(
    `  server {
    listen 127.0.0.1:${port};
    proxy_connect_timeout 2s; proxy_send_timeout 2s; proxy_read_timeout 300ms;
    location /refused { proxy_pass http://127.0.0.1:${refused.port}; }
    location /wrong-port { proxy_pass http://127.0.0.1:${wrongPort}; }
    location /slow { proxy_pass http://127.0.0.1:${hang.port}; }
    location /http-to-tls { proxy_pass http://127.0.0.1:${tls.port}; }
    location /https-to-plain { proxy_pass https://127.0.0.1:${ok.port}; }
    location /unix { proxy_pass http://unix:${missingSocket}; }
    location /huge { proxy_buffer_size 1k; proxy_pass http://127.0.0.1:${huge.port}; }
  }`,
    port,
  );
  t.after(() => nginx.stop());
  assert.notEqual(wrongPort, ok.port);

  for (const scenario of SCENARIOS) {
    await t.test(scenario.name, async () => {
      const reply = await get(port, scenario.path);
      assert.equal(reply.status, scenario.status);
      const lines = await linesFor(nginx.errorLog, scenario.path);
      assert.ok(lines.length > 0, `nginx logged no error for ${scenario.path}`);
      for (const line of lines) {
        const e: Explanation = explainLine(line);
        const causes = e.causes.map((c) => c.cause);
        assert.equal(e.source, 'nginx_error', line);
        assert.equal(e.error, scenario.error, line);
        if (scenario.top !== undefined) assert.equal(causes[0], scenario.top, line);
        assert.ok(
          causes.includes(scenario.named as (typeof causes)[number]),
          `${causes.join(',')} lacks ${scenario.named}`,
        );
        assert.ok(
          e.checks.some((c) => c.command !== undefined),
          'a check with a command',
        );
        assert.ok(e.upstream !== undefined && e.upstream !== '', 'the upstream is named');
        assert.ok(e.time !== undefined && !Number.isNaN(new Date(e.time).getTime()), 'the time is read');
      }
    });
  }

  await t.test('the refused line names the port to look at', async () => {
    const [line] = await linesFor(nginx.errorLog, '/wrong-port');
    const e = explainLine(line!);
    assert.equal(e.upstream, `http://127.0.0.1:${wrongPort}`);
    assert.ok(e.checks.some((c) => c.command === `ss -ltnp 'sport = :${wrongPort}'`));
    assert.equal(e.phase, 'connect');
  });
});
