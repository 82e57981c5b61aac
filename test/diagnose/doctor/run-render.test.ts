/** runDoctor's report (ranking, merging, the log-analysis seam, usage errors) and its rendering for people. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  type DoctorReport,
  DoctorUsageError,
  doctorExitCode,
  type LogAnalyzer,
  renderDoctorReport,
  runDoctor,
} from '../../../src/diagnose/doctor/index.js';
import { gatewiseConfig, nginxConfig, upstream } from './support.js';

test('findings are ranked critical → ok, and one problem reached from two locations is one finding', async (t) => {
  const refusing = await upstream(t, 'refuse');
  const ok = await upstream(t, 'ok');
  const file = nginxConfig(
    t,
    `  upstream down { server 127.0.0.1:${refusing.port}; }
  server {
    location /a { proxy_pass http://down; }
    location /b { proxy_pass http://down; }
    location /c { proxy_pass http://127.0.0.1:${ok.port}; }
  }`,
  );
  const report = await runDoctor({ nginx: file, checks: ['config', 'tcp', 'http'], timeoutMs: 1000 });
  const severities = report.findings.map((found) => found.severity);
  assert.deepEqual(
    severities,
    [...severities].sort((a, b) => order(a) - order(b)),
  );
  const refused = report.findings.filter((found) => found.check === 'tcp' && found.severity !== 'ok');
  assert.equal(refused.length, 1, JSON.stringify(refused, null, 2));
  assert.ok(refused[0]!.evidence.some((line) => line.includes('location /a')));
  assert.ok(refused[0]!.evidence.some((line) => line.includes('location /b')));
  assert.deepEqual(report.targets.find((target) => target.upstream === 'down')!.used_by.length, 2);
  assert.equal(report.status, 'critical');
  assert.equal(doctorExitCode(report), 1);
  assert.equal(report.summary.critical, 1);
  assert.ok(report.duration_ms >= 0);
});

function order(severity: string): number {
  return ['critical', 'warning', 'info', 'ok'].indexOf(severity);
}

test('the log-analysis seam: an injected analyser adds ranked findings and its own section', async (t) => {
  const config = gatewiseConfig(t, { api: { servers: ['http://127.0.0.1:9'] } });
  const calls: string[] = [];
  const analyzeLog: LogAnalyzer = async (file, context) => {
    calls.push(`${file} ${context.model.kind} ${context.timeoutMs}`);
    return {
      file,
      findings: [
        {
          severity: 'critical',
          check: 'log',
          title: '12 × connect() failed (111: Connection refused)',
          evidence: ['2024/01/01 00:00:00 [error] 1#1: *1 connect() failed (111: Connection refused)'],
          cause: 'backend_down',
        },
      ],
      text: '12 lines, 1 cause: backend_down',
      data: { lines: 12 },
    };
  };
  const report = await runDoctor({
    config,
    checks: ['config'],
    errorLog: '/var/log/app/error.log',
    analyzeLog,
    timeoutMs: 700,
  });
  assert.deepEqual(calls, ['/var/log/app/error.log gatewise 700']);
  assert.equal(report.findings[0]!.check, 'log');
  assert.equal(report.status, 'critical');
  assert.deepEqual(report.log_analysis, {
    file: '/var/log/app/error.log',
    text: '12 lines, 1 cause: backend_down',
    data: { lines: 12 },
  });
  const text = renderDoctorReport(report);
  assert.match(text, /\nError log \/var\/log\/app\/error\.log\n {2}12 lines, 1 cause: backend_down\n/);

  const failing = await runDoctor({
    config,
    checks: ['config'],
    errorLog: '/nope.log',
    analyzeLog: async () => {
      throw new Error('cannot open /nope.log (ENOENT)');
    },
  });
  assert.deepEqual(failing.not_checked, [{ check: 'log', what: '/nope.log', why: 'cannot open /nope.log (ENOENT)' }]);
  assert.equal(failing.log_analysis, undefined);
});

test('without --error-log, the error log the configuration names is offered', async (t) => {
  const file = nginxConfig(
    t,
    '  server { location / { proxy_pass http://127.0.0.1:9; } }',
    'error_log /var/log/nginx/site.log;',
  );
  const report = await runDoctor({ nginx: file, checks: ['config'] });
  assert.deepEqual(report.not_checked, [
    {
      check: 'log',
      what: 'the error log',
      why: 'not asked for; the configuration writes errors to /var/log/nginx/site.log (add --error-log /var/log/nginx/site.log)',
    },
  ]);
});

test('usage errors: no configuration, two configurations, an unknown check', async (t) => {
  const config = gatewiseConfig(t, { api: { servers: ['http://127.0.0.1:9'] } });
  await assert.rejects(runDoctor({}), DoctorUsageError);
  await assert.rejects(
    runDoctor({ config, nginx: config }),
    /either a Gatewise configuration or an nginx configuration/,
  );
  await assert.rejects(
    runDoctor({ config, checks: ['tcp', 'magic'] }),
    /unknown check magic \(checks: config, dns, tcp,/,
  );
});

const SAMPLE: DoctorReport = {
  version: 1,
  source: {
    kind: 'nginx',
    file: '/etc/nginx/nginx.conf',
    files: ['/etc/nginx/nginx.conf', '/etc/nginx/conf.d/app.conf'],
  },
  status: 'critical',
  summary: { critical: 1, warning: 0, info: 0, ok: 1 },
  targets: [
    { upstream: 'app', protocol: 'http', servers: ['127.0.0.1:5000'], used_by: ['server example.com location /'] },
  ],
  findings: [
    {
      severity: 'critical',
      check: 'tcp',
      target: 'app: 127.0.0.1:5000',
      title: 'nothing listens on 127.0.0.1:5000, but `node server.js` (pid 123) listens on 127.0.0.1:3000',
      evidence: [
        '/etc/nginx/conf.d/app.conf:2: 127.0.0.1:5000',
        'listening: 127.0.0.1:3000 `node server.js` (pid 123)',
      ],
      cause: 'wrong_upstream_address',
      fix: 'point the server at port 3000',
    },
    { severity: 'ok', check: 'dns', title: 'nothing to resolve', evidence: ['no host names'] },
  ],
  not_checked: [{ check: 'resources', what: 'OOM kills in the kernel log (/dev/kmsg)', why: 'EPERM' }],
  duration_ms: 1234,
};

test('the text report: header, each problem with cause, evidence and fix, the ok ones in short, what was not checked', () => {
  assert.equal(
    renderDoctorReport(SAMPLE),
    `gatewise doctor: nginx configuration /etc/nginx/nginx.conf (2 files)
upstreams: app [127.0.0.1:5000]

CRITICAL  tcp  app: 127.0.0.1:5000
  nothing listens on 127.0.0.1:5000, but \`node server.js\` (pid 123) listens on 127.0.0.1:3000
  cause     wrong_upstream_address
  evidence  /etc/nginx/conf.d/app.conf:2: 127.0.0.1:5000
            listening: 127.0.0.1:3000 \`node server.js\` (pid 123)
  fix       point the server at port 3000

OK (1)
  dns       nothing to resolve

Not checked
  - resources: OOM kills in the kernel log (/dev/kmsg): EPERM

problems found: 1 critical, 0 warnings, 0 info, 1 ok (1.2 s)
`,
  );
  assert.match(renderDoctorReport(SAMPLE, { verbose: true }), /\n {2}dns {7}nothing to resolve\n {12}no host names\n/);
});

test('colours only when asked; the text is the same once they are removed', () => {
  const coloured = renderDoctorReport(SAMPLE, { color: true });
  assert.match(coloured, /\u001b\[1;31mCRITICAL/);
  assert.equal(coloured.replace(/\u001b\[[\d;]*m/g, ''), renderDoctorReport(SAMPLE));
  assert.doesNotMatch(renderDoctorReport(SAMPLE), /\u001b/);
});
