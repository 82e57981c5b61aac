/**
 * A real nginx (Debian's package, its own prefix and ports) in front of real broken backends:
 * nginx really fails each location, and `gatewise doctor --nginx` names each cause.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../../src/diagnose/doctor/index.js';
import { runCli } from '../../support/cli.js';
import { freePort, nginxAvailable, startNginx } from '../../support/nginx.js';
import { get } from '../../support/raw-client.js';
import { brokenBackends, READ_TIMEOUT_MS, type Scenario } from './scenarios.js';
import { tempDir } from './support.js';

/** One location per scenario, upstream blocks (from an included file) for the http ones. */
function locations(scenarios: readonly Scenario[]): { upstreams: string; servers: string } {
  const upstreams: string[] = [];
  const servers: string[] = [];
  for (const scenario of scenarios) {
    if (scenario.url.startsWith('unix:')) {
      servers.push(`    location /${scenario.name} { proxy_pass http://${scenario.url}:/; }`);
    } else if (scenario.url.startsWith('https:')) {
      servers.push(`    location /${scenario.name} { proxy_pass ${scenario.url}; }`);
    } else {
      upstreams.push(`upstream ${scenario.name} { server ${scenario.url.slice('http://'.length)}; }`);
      servers.push(`    location /${scenario.name} { proxy_pass http://${scenario.name}; }`);
    }
  }
  return { upstreams: upstreams.join('\n'), servers: servers.join('\n') };
}

test('real nginx in front of broken backends: doctor --nginx names every cause', {
  skip: !nginxAvailable() && 'nginx is not installed',
}, async (t) => {
  const scenarios = await brokenBackends(t);
  const { upstreams, servers } = locations(scenarios);
  const includes = tempDir(t);
  mkdirSync(join(includes, 'conf.d'));
  writeFileSync(join(includes, 'conf.d', 'upstreams.conf'), `${upstreams}\n`);
  const port = await freePort();
  const nginx = await startNginx(
    `  include ${includes}/conf.d/*.conf;
  server {
    listen 127.0.0.1:${port};
    proxy_read_timeout ${READ_TIMEOUT_MS}ms;
${servers}
  }`,
    port,
  );
  t.after(() => nginx.stop());

  // nginx itself fails each location the way the scenario says.
  const statuses = await Promise.all(
    scenarios.map((scenario) => get(port, `/${scenario.name}`).then((reply) => reply.status)),
  );
  assert.deepEqual(
    statuses,
    scenarios.map((scenario) => scenario.nginxStatus),
  );

  const result = await runCli([
    'doctor',
    '--nginx',
    join(nginx.dir, 'nginx.conf'),
    '--json',
    '--timeout',
    '1s',
    '--only',
    'config,dns,tcp,unix,tls,http,keepalive,listeners',
  ]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout) as DoctorReport;
  assert.equal(report.source.kind, 'nginx');
  assert.equal(report.source.files.length, 2, 'the included file was read');
  for (const scenario of scenarios) {
    const found = report.findings.filter(
      (entry) =>
        entry.severity === 'critical' &&
        entry.check === scenario.check &&
        (entry.target ?? '').includes(scenario.url.replace(/^https?:\/\//, '')),
    );
    assert.equal(found.length, 1, `${scenario.name}: ${JSON.stringify(report.findings, null, 2)}`);
    assert.equal(found[0]!.cause, scenario.cause, `${scenario.name}: ${found[0]!.title}`);
    assert.match(found[0]!.title, scenario.title, scenario.name);
  }
  assert.equal(
    report.summary.critical,
    scenarios.length,
    JSON.stringify(
      report.findings.filter((f) => f.severity === 'critical'),
      null,
      2,
    ),
  );
  const listener = report.findings.find(
    (entry) => entry.check === 'listeners' && entry.target === `listen 127.0.0.1:${port}`,
  );
  assert.match(listener?.title ?? '', /`nginx: (master|worker) process/);
  assert.match(report.findings.find((entry) => entry.target?.includes('bighead'))!.title, /over proxy_buffer_size 4k$/);

  // The error log nginx wrote meanwhile: each failure grouped, with its cause, in the same ranking.
  const withLog = await runCli([
    'doctor',
    '--nginx',
    join(nginx.dir, 'nginx.conf'),
    '--error-log',
    nginx.errorLog,
    '--json',
    '--only',
    'config',
  ]);
  const logged = JSON.parse(withLog.stdout) as DoctorReport;
  const fromLog = logged.findings.filter((entry) => entry.check === 'log');
  const causes = new Set(fromLog.map((entry) => entry.cause));
  // (A refused connect reads backend_down first from one log line; the probes above tell the wrong port.)
  for (const cause of ['backend_down', 'slow_backend', 'tls_mismatch', 'buffer_or_limit_config'] as const)
    assert.ok(causes.has(cause), `${cause}: ${JSON.stringify(fromLog, null, 2)}`);
  assert.ok(
    fromLog.some((entry) => entry.title.includes('destination_not_found')),
    'the missing unix socket is named from the log',
  );
  assert.match(logged.log_analysis?.text ?? '', /per minute/i);
});
