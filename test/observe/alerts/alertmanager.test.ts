/**
 * Gatewise → a real Alertmanager (Debian's prometheus-alertmanager) → a real webhook receiver: the
 * v2 API accepts our alerts, routes them, and takes the resolution.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkedApi } from '../../support/alerting.js';
import { until } from '../../support/load.js';
import { freePort } from '../../support/nginx.js';
import { startReceiver } from '../../support/receiver.js';
import { startService } from '../../support/service.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
  endsAt: string;
}

test('alerts reach a real Alertmanager through /api/v2/alerts, and their resolution too', async (t) => {
  const hook = await startReceiver(t);
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-am-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs: [{ url: '${hook.url}/from-alertmanager', send_resolved: true }]
`,
  );
  const port = await freePort();
  const am = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let amLog = '';
  am.stderr.on('data', (chunk: Buffer) => {
    amLog += chunk.toString();
  });
  t.after(() => {
    am.kill('SIGKILL');
  });
  const amUrl = `http://127.0.0.1:${port}`;
  const ready = async () => (await fetch(`${amUrl}/-/ready`).catch(() => null))?.ok === true;
  for (let i = 0; i < 100 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(await ready(), `alertmanager did not start:\n${amLog}`);

  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  await startService(
    t,
    `${checkedApi(backend.url)}  rules:
    - name: ApiServerDown
      server_unhealthy: {}
      severity: critical
      annotations: { summary: "{{ $labels.server }} is down" }
  notifiers: [{ type: alertmanager, url: ${amUrl} }]
`,
  );
  const amAlerts = async () => (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];

  backend.healthy = false;
  let alerts: AmAlert[] = [];
  await until(
    () => {
      void amAlerts().then((list) => {
        alerts = list;
      });
      return alerts.length > 0;
    },
    10000,
    'alert in Alertmanager',
  );
  const alert = alerts[0]!;
  assert.equal(alert.labels.alertname, 'ApiServerDown');
  assert.equal(alert.labels.severity, 'critical');
  assert.equal(alert.labels.server, `127.0.0.1:${backend.port}`);
  assert.equal(alert.annotations.summary, `127.0.0.1:${backend.port} is down`);
  assert.equal(alert.status.state, 'active');
  // Sent with an expiry ahead, so Alertmanager keeps it while Gatewise keeps repeating it.
  assert.ok(Date.parse(alert.endsAt) > Date.now());
  // Alertmanager routed it on to its own receiver.
  await until(() => hook.received.length > 0, 10000, 'alertmanager webhook');
  assert.equal((hook.received[0]!.body as { status: string }).status, 'firing');

  backend.healthy = true;
  await until(
    () => {
      void amAlerts().then((list) => {
        alerts = list;
      });
      return alerts.length === 0;
    },
    10000,
    'alert resolved in Alertmanager',
  );
  await until(
    () => hook.received.some((r) => (r.body as { status: string }).status === 'resolved'),
    10000,
    'resolution passed on by alertmanager',
  );
});
