/** The dns and config checks: names that resolve or not, resolvers that answer or not, loops, what is left unprobed. */
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import { findingsOf, gatewiseConfig, nginxConfig, problemOf, tempDir, upstream } from './support.js';

test('a name that resolves is ok; one that does not is critical dns', async (t) => {
  const config = gatewiseConfig(t, {
    local: { servers: ['http://localhost:9'] },
    missing: { servers: ['http://no-such-host.invalid:80'] },
  });
  const report = await runDoctor({ config, checks: ['dns'], timeoutMs: 1000 });
  const [local] = findingsOf(report, 'dns', 'local:');
  assert.equal(local!.severity, 'ok');
  assert.match(local!.title, /^localhost resolves to (127\.0\.0\.1|::1)/);
  const missing = problemOf(report, 'dns', 'missing:');
  assert.equal(missing.severity, 'critical');
  assert.equal(missing.cause, 'dns');
  assert.equal(missing.title, 'no-such-host.invalid does not resolve');
  assert.ok(
    missing.evidence.some((line) =>
      /host "no-such-host\.invalid" could not be resolved|resolving "no-such-host\.invalid" timed out/.test(line),
    ),
  );
});

test('a resolver named by nginx that does not answer: critical dns; a name resolving to loopback is not a start-up risk', async (t) => {
  // A UDP port nothing listens on: the query is refused (ICMP port unreachable).
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  const file = nginxConfig(
    t,
    `  resolver 127.0.0.1:${port} valid=10s;
  upstream pinned { server localhost:9; }
  server {
    location /dynamic { set $backend "localhost:9"; proxy_pass http://$backend; }
    location /pinned { proxy_pass http://pinned; }
  }`,
  );
  const report = await runDoctor({ nginx: file, checks: ['dns'], timeoutMs: 500 });
  const found = problemOf(report, 'dns', 'localhost:9');
  assert.equal(found.title, `resolver 127.0.0.1:${port} gives no address for localhost`);
  assert.equal(found.cause, 'dns');
  assert.ok(!report.findings.some((entry) => entry.title.includes('only at start-up')), 'loopback names never move');
});

test('a server pointing back at the Gatewise listener is a loop: critical wrong_upstream_address', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'loop.yaml');
  writeFileSync(
    file,
    `listen:
  - address: 127.0.0.1:18080
upstreams:
  api:
    servers:
      - url: http://localhost:18080
routes:
  - upstream: api
`,
  );
  const report = await runDoctor({ config: file, checks: ['config'] });
  const found = problemOf(report, 'config', 'api');
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'wrong_upstream_address');
  assert.equal(found.title, "localhost:18080 is the gateway's own listen address 127.0.0.1:18080");
  assert.deepEqual(found.evidence, [`${file}:6: http://localhost:18080`, `${file}:2: listen 127.0.0.1:18080`]);
});

test('config: what was read, the reader notes, and per-request targets listed as not checked', async (t) => {
  const ok = await upstream(t, 'ok');
  const file = nginxConfig(
    t,
    `  upstream app { server 127.0.0.1:${ok.port}; }
  server {
    location / { proxy_connect_timeout 2m; proxy_pass http://app; }
    location /x { proxy_pass http://$arg_to; }
  }`,
  );
  const report = await runDoctor({ nginx: file, checks: ['config'] });
  assert.deepEqual(
    report.findings.map((found) => [found.severity, found.title]),
    [
      [
        'warning',
        'proxy_pass http://$arg_to needs a resolver unless the variable names an upstream block, and none is defined',
      ],
      ['info', 'proxy_connect_timeout above 75s has no effect'],
      ['ok', `read nginx configuration ${file}: 2 upstream targets, 1 server`],
    ],
  );
  assert.equal(report.not_checked.length, 1);
  assert.match(report.not_checked[0]!.what, /^proxy_pass http:\/\/\$arg_to \(.*nginx\.conf:7\)$/);
  assert.deepEqual(report.targets[0], {
    upstream: 'app',
    protocol: 'http',
    servers: [`127.0.0.1:${ok.port}`],
    used_by: [`server at ${file}:5 location / (${file}:6)`],
  });
});
