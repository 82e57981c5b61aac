/**
 * The same broken backends behind a real Gatewise writing its JSON log to a file: explain must read
 * Gatewise's own failure and access records and give the same error type the client saw in
 * Proxy-Status, with the cause Gatewise found.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/index.js';
import { explainLine } from '../../../src/diagnose/explain/index.js';
import { analyzeLog } from '../../../src/diagnose/log-analysis.js';
import { Service } from '../../../src/service.js';
import { get } from '../../support/raw-client.js';
import { startBrokenUpstreams } from './broken-upstreams.js';

interface Scenario {
  name: string;
  path: string;
  error: string;
  cause: string;
  status: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'refused', path: '/refused', error: 'connection_refused', cause: 'backend_down', status: 502 },
  { name: 'wrong port', path: '/wrong-port', error: 'connection_refused', cause: 'backend_down', status: 502 },
  { name: 'slow backend', path: '/slow', error: 'connection_read_timeout', cause: 'slow_backend', status: 504 },
  {
    name: 'http:// to a TLS backend',
    path: '/http-to-tls',
    error: 'connection_terminated',
    cause: 'tls_mismatch',
    status: 502,
  },
  {
    name: 'https:// to a plain backend',
    path: '/https-to-plain',
    error: 'tls_protocol_error',
    cause: 'tls_mismatch',
    status: 502,
  },
  {
    name: 'missing unix socket',
    path: '/unix',
    error: 'destination_not_found',
    cause: 'wrong_upstream_address',
    status: 502,
  },
  {
    name: 'oversized response header',
    path: '/huge',
    error: 'http_response_header_section_size',
    cause: 'buffer_or_limit_config',
    status: 502,
  },
];

test("explain reads Gatewise's own log lines for every failure", async (t) => {
  const { dir, refused, ok, hang, tls, huge, wrongPort } = await startBrokenUpstreams(t, 'gw', 70_000);
  const logFile = join(dir, 'gatewise.log');
  const upstream = (name: string, url: string): string =>
    `  ${name}:\n    servers: [{ url: "${url}" }]\n    timeouts: { connect: 2s, read: 300ms }\n    retries: { attempts: 1 }\n`;
  const service = new Service({
    config: parseConfigText(
      `listen: [{ address: 127.0.0.1:0 }]
admin: { address: 127.0.0.1:0 }
log: { file: ${logFile}, level: info }
upstreams:
${upstream('refused', `http://127.0.0.1:${refused.port}`)}${upstream('wrongport', `http://127.0.0.1:${wrongPort}`)}${upstream('slow', `http://127.0.0.1:${hang.port}`)}${upstream('httptotls', `http://127.0.0.1:${tls.port}`)}${upstream('httpstoplain', `https://127.0.0.1:${ok.port}`)}${upstream('unix', `unix:${join(dir, 'app.sock')}`)}${upstream('huge', `http://127.0.0.1:${huge.port}`)}routes:
  - { match: { path: /refused }, upstream: refused }
  - { match: { path: /wrong-port }, upstream: wrongport }
  - { match: { path: /slow }, upstream: slow }
  - { match: { path: /http-to-tls }, upstream: httptotls }
  - { match: { path: /https-to-plain }, upstream: httpstoplain }
  - { match: { path: /unix }, upstream: unix }
  - { match: { path: /huge }, upstream: huge }
`,
      'explain-test.yaml',
    ),
  });
  await service.start();
  let stopped = false;
  t.after(() => (stopped ? undefined : service.stop()));
  const address = service.gateway.addresses()[0]!;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));

  const seen = new Map<string, string>();
  for (const scenario of SCENARIOS) {
    const reply = await get(port, scenario.path);
    assert.equal(reply.status, scenario.status, scenario.name);
    seen.set(scenario.path, reply.headers.get('proxy-status') ?? '');
  }
  // Stopping flushes the buffered log.
  await service.stop();
  stopped = true;
  const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);

  for (const scenario of SCENARIOS) {
    await t.test(scenario.name, () => {
      const access = lines.find((l) => l.includes('"msg":"access"') && l.includes(`"path":"${scenario.path}"`));
      assert.ok(access, `no access record for ${scenario.path}`);
      const requestId = (JSON.parse(access) as { request_id: string }).request_id;
      const failure = lines.find((l) => l.includes('"msg":"upstream failure"') && l.includes(`"${requestId}"`));
      assert.ok(failure, `no failure record for ${requestId}`);
      for (const line of [failure, access]) {
        const e = explainLine(line);
        assert.equal(e.source, 'gatewise');
        assert.equal(e.error, scenario.error, line);
        // The client saw the same type in Proxy-Status.
        assert.equal(seen.get(scenario.path), `gatewise; error=${e.error}`);
        assert.equal(e.causes[0]!.cause, scenario.cause, line);
        assert.equal(e.confidence, 'high');
        assert.ok(e.upstream !== undefined && e.upstream !== '');
      }
      const e = explainLine(failure);
      assert.ok(e.phase !== undefined, 'the phase of the failure record');
      assert.ok(
        e.checks.some((c) => c.command !== undefined),
        'a check with a command',
      );
    });
  }

  await t.test('the log analysis counts each failed request once', async () => {
    const analysis = await analyzeLog(lines);
    assert.equal(analysis.failures, SCENARIOS.length);
    assert.equal(analysis.sources['gatewise'], lines.length);
    const byError = new Map<string, number>();
    for (const group of analysis.groups) byError.set(group.error, (byError.get(group.error) ?? 0) + group.count);
    assert.equal(byError.get('connection_refused'), 2);
    assert.equal(byError.get('tls_protocol_error'), 1);
  });
});
