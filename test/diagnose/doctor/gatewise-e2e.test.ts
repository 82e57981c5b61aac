/**
 * The same broken backends behind Gatewise: a real gateway fails each route, and `gatewise doctor
 * --config` names each cause — the cause the gateway itself gives, refined where doctor knows more
 * (a refused port next to a listening one is the wrong port, not a dead backend).
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../../src/diagnose/doctor/index.js';
import { runCli } from '../../support/cli.js';
import { startGateway } from '../../support/gateway.js';
import { get } from '../../support/raw-client.js';
import { brokenBackends, READ_TIMEOUT_MS, type Scenario } from './scenarios.js';
import { tempDir } from './support.js';

function configBody(scenarios: readonly Scenario[]): string {
  const lines = ['upstreams:'];
  for (const scenario of scenarios)
    lines.push(
      `  ${scenario.name}:`,
      '    servers:',
      `      - url: ${scenario.url}`,
      `    timeouts: { read: ${READ_TIMEOUT_MS}ms }`,
      '    retries: { attempts: 1 }',
    );
  lines.push('routes:');
  for (const scenario of scenarios)
    lines.push(`  - match: { path: /${scenario.name} }`, `    upstream: ${scenario.name}`);
  return `${lines.join('\n')}\n`;
}

test('Gatewise in front of broken backends: doctor --config names every cause the gateway meets', async (t) => {
  const scenarios = await brokenBackends(t);
  const body = configBody(scenarios);
  const gateway = await startGateway(body);
  t.after(() => gateway.close());
  const gatewayCauses = new Map<string, string>();
  await Promise.all(
    scenarios.map(async (scenario) => {
      const reply = await get(gateway.port, `/${scenario.name}`);
      assert.ok(reply.status === 502 || reply.status === 504, `${scenario.name}: ${reply.status}`);
      const record = await gateway.nextAccess((entry) => entry.path === `/${scenario.name}`);
      gatewayCauses.set(scenario.name, record.failure?.cause ?? 'none');
    }),
  );

  const file = join(tempDir(t), 'gatewise.yaml');
  writeFileSync(file, `listen:\n  - address: 127.0.0.1:0\nadmin:\n  address: 127.0.0.1:0\n${body}`);
  const result = await runCli([
    'doctor',
    '--config',
    file,
    '--json',
    '--timeout',
    '1s',
    '--only',
    'config,dns,tcp,unix,tls,http,keepalive',
  ]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout) as DoctorReport;
  assert.equal(report.source.kind, 'gatewise');
  for (const scenario of scenarios) {
    const found = report.findings.filter(
      (entry) =>
        entry.severity === 'critical' &&
        entry.check === scenario.check &&
        entry.target?.startsWith(`${scenario.name}:`),
    );
    assert.equal(found.length, 1, `${scenario.name}: ${JSON.stringify(report.findings, null, 2)}`);
    assert.equal(found[0]!.cause, scenario.cause, `${scenario.name}: ${found[0]!.title}`);
    assert.match(found[0]!.title, scenario.title, scenario.name);
    const expected = scenario.name === 'wrongport' ? 'backend_down' : scenario.cause;
    assert.equal(gatewayCauses.get(scenario.name), expected, `the gateway's own cause for ${scenario.name}`);
  }
  assert.equal(report.summary.critical, scenarios.length);
  assert.match(
    report.findings.find((entry) => entry.target?.startsWith('bighead:'))!.title,
    /over upstreams\.bighead\.max_response_header_bytes 32k$/,
  );
});
