/** `gatewise doctor` as users run it: exit codes 0 / 1 / 2, --json, the default configuration, no colour off a terminal. */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../../src/diagnose/doctor/index.js';
import { BIN, type CliResult, runCli } from '../../support/cli.js';
import { gatewiseConfig, lonelyRefusingPort, nginxConfig, tempDir, upstream } from './support.js';

/** Every family except resources, whose verdict depends on how busy the machine running the tests is. */
const ONLY = ['--only', 'config,dns,tcp,unix,tls,http,keepalive,listeners'];

function runIn(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`doctor did not exit; stderr: ${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('exit 0 when healthy: a readable report, no colour when stdout is not a terminal', async (t) => {
  const ok = await upstream(t, 'ok', { keepAliveTimeoutS: 120 });
  const config = gatewiseConfig(t, { api: { servers: [ok.url] } });
  const result = await runCli(['doctor', '--config', config, '--timeout', '1s', ...ONLY]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /^gatewise doctor: Gatewise configuration .*gatewise\.yaml\n/);
  assert.match(result.stdout, /\nhealthy: 0 critical, 0 warnings, \d+ info, \d+ ok \([\d.]+ m?s\)\n$/);
  assert.doesNotMatch(result.stdout, /\u001b\[/);
});

test('exit 1 when anything is at warning or above; --json is the report', async (t) => {
  const port = await lonelyRefusingPort(t);
  const config = gatewiseConfig(t, { api: { servers: [`http://127.0.0.1:${port}`] } });
  const result = await runCli(['doctor', '--config', config, '--json', '--timeout', '1s', ...ONLY]);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout) as DoctorReport;
  assert.equal(report.version, 1);
  assert.equal(report.status, 'critical');
  assert.deepEqual(Object.keys(report), [
    'version',
    'source',
    'status',
    'summary',
    'targets',
    'findings',
    'not_checked',
    'duration_ms',
  ]);
  const first = report.findings[0]!;
  assert.equal(first.severity, 'critical');
  assert.equal(first.check, 'tcp');
  assert.match(first.title, new RegExp(`^nothing listens on 127\\.0\\.0\\.1:${port}`));
  assert.deepEqual(report.targets, [
    { upstream: 'api', protocol: 'http', servers: [`127.0.0.1:${port}`], used_by: ['route */api'] },
  ]);
});

test('exit 2 when doctor cannot run: unreadable or invalid configuration, bad arguments', async (t) => {
  const dir = tempDir(t);
  const missing = await runCli(['doctor', '--config', join(dir, 'none.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the configuration:\n.*none\.yaml:1:1: cannot read the configuration file/);

  const broken = join(dir, 'nginx.conf');
  writeFileSync(broken, 'http {\n  server {\n    listen 80\n  }\n');
  const syntax = await runCli(['doctor', '--nginx', broken]);
  assert.equal(syntax.code, 2);
  assert.match(syntax.stderr, /nginx\.conf:3:5: directive "listen" is not terminated by ";"/);

  const config = gatewiseConfig(t, { api: { servers: ['http://127.0.0.1:9'] } });
  const both = await runCli(['doctor', '--config', config, '--nginx', broken]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
  const timeout = await runCli(['doctor', '--config', config, '--timeout', 'soon']);
  assert.equal(timeout.code, 2);
  assert.match(timeout.stderr, /--timeout: expected a duration like "2s"/);
  const only = await runCli(['doctor', '--config', config, '--only', 'tcp,magic']);
  assert.equal(only.code, 2);
  assert.match(only.stderr, /unknown check magic/);
});

test('without --config or --nginx, ./gatewise.yaml is examined', async (t) => {
  const ok = await upstream(t, 'ok', { keepAliveTimeoutS: 120 });
  const dir = tempDir(t);
  gatewiseConfig(t, { api: { servers: [ok.url] } }, dir);
  const result = await runIn(dir, ['doctor', '--json', '--timeout', '1s', ...ONLY]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = JSON.parse(result.stdout) as DoctorReport;
  assert.equal(report.source.file, 'gatewise.yaml');
});

test('--nginx with a path requested from every server', async (t) => {
  const ok = await upstream(t, 'ok');
  const file = nginxConfig(t, `  server { location / { proxy_pass http://127.0.0.1:${ok.port}; } }`);
  const result = await runCli(['doctor', '--nginx', file, '--json', '--path', 'status/503', '--only', 'http']);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout) as DoctorReport;
  assert.equal(report.findings[0]!.title, `GET /status/503 to 127.0.0.1:${ok.port} answered 503`);
});
