/** The tcp check against real sockets: connects, refusals, and the wrong port found through /proc. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import {
  childListener,
  childWithFreeNextPort,
  findingsOf,
  gatewiseConfig,
  lonelyRefusingPort,
  problemOf,
  upstream,
} from './support.js';

const OPTIONS = { checks: ['tcp'], timeoutMs: 1000 } as const;

test('a server that accepts: ok, with the time taken and the process that listens', async (t) => {
  const ok = await upstream(t, 'ok');
  const config = gatewiseConfig(t, { api: { servers: [ok.url] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const [found, ...rest] = findingsOf(report, 'tcp');
  assert.deepEqual(rest, []);
  assert.equal(found!.severity, 'ok');
  assert.match(
    found!.title,
    new RegExp(
      `^connect to 127\\.0\\.0\\.1:${ok.port} took [\\d.]+ ms; \`.*node.*\` \\(pid ${process.pid}\\) listens$`,
    ),
  );
  assert.equal(report.status, 'healthy');
});

test('refused, with no listener near the port: backend_down, other listeners shown as evidence', async (t) => {
  // Two processes listening far away: neither is "the only other listener", so neither is blamed.
  const first = await childListener(t);
  const second = await childListener(t);
  const port = await lonelyRefusingPort(t);
  const config = gatewiseConfig(t, { api: { servers: [`http://127.0.0.1:${port}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'tcp', `127.0.0.1:${port}`);
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'backend_down');
  assert.equal(found.title, `nothing listens on 127.0.0.1:${port}`);
  assert.ok(found.evidence.some((line) => /connect\(\) to 127\.0\.0\.1:\d+ failed \(ECONNREFUSED/.test(line)));
  assert.match(found.evidence[0]!, /gatewise\.yaml:\d+: http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(first.pid !== second.pid);
  assert.equal(report.status, 'critical');
});

test('wrong port: nothing on the configured port, but a real process listens on the next one', async (t) => {
  const child = await childWithFreeNextPort(t);
  const wrong = child.port + 1;
  const config = gatewiseConfig(t, { api: { servers: [`http://127.0.0.1:${wrong}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'tcp', `127.0.0.1:${wrong}`);
  assert.equal(found.cause, 'wrong_upstream_address');
  assert.match(
    found.title,
    new RegExp(
      `^nothing listens on 127\\.0\\.0\\.1:${wrong}, but \`.*node -e .*\` \\(pid ${child.pid}\\) listens on 127\\.0\\.0\\.1:${child.port}$`,
    ),
  );
  assert.match(found.fix!, new RegExp(`point the server at port ${child.port}`));
});

test('a backup server that refuses is a warning, not critical', async (t) => {
  const ok = await upstream(t, 'ok');
  const port = await lonelyRefusingPort(t);
  const config = gatewiseConfig(t, { api: { servers: [ok.url, { backup: `http://127.0.0.1:${port}` }] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'tcp', `127.0.0.1:${port}`);
  assert.equal(found.severity, 'warning');
  assert.equal(report.status, 'warning');
});
