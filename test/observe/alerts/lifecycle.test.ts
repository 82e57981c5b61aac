/**
 * Alert lifecycle on a whole Gatewise against real backends and a real notification receiver:
 * pending, firing and resolved, delivery retried after a receiver error, the three payload formats,
 * and the admin API's view.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigFile } from '../../../src/config/index.js';
import { Service } from '../../../src/service.js';
import { checkedApi } from '../../support/alerting.js';
import { until } from '../../support/load.js';
import { get } from '../../support/raw-client.js';
import { type Received, startReceiver } from '../../support/receiver.js';
import { startService } from '../../support/service.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}
interface WebhookBody {
  version: string;
  externalURL: string;
  status: string;
  receiver: string;
  alerts: WebhookAlert[];
}

const alertsOf = (received: Received[], status: string): WebhookAlert[] =>
  received
    .filter((r) => r.status === 200)
    .flatMap((r) => (r.body as WebhookBody).alerts)
    .filter((a) => a.status === status);

test('a server going down: pending, then firing after `for`, then resolved; a receiver error is retried', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const receiver = await startReceiver(t);
  // The first delivery meets a 503: it must be retried, not lost.
  receiver.answers.push(503);
  const { service, admin } = await startService(
    t,
    `upstreams:
  api:
    servers: [{ url: ${backend.url} }]
    health:
      active: { path: /health, interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 }
routes:
  - match: { path: / }
    upstream: api
alerts:
  default_rules: false
  evaluate_every: 50ms
  rules:
    - name: ApiServerDown
      server_unhealthy: {}
      for: 400ms
      severity: critical
      labels: { team: core }
      annotations: { summary: "{{ $labels.server }} of {{ $labels.upstream }} is down" }
  notifiers:
    - name: hook
      type: webhook
      url: ${receiver.url}/hook
      headers: { authorization: Bearer s3cret }
      retries: { attempts: 4, backoff: 50ms }
`,
  );
  const states: string[] = [];
  service.events.on((event) => {
    if (event.kind === 'alert') states.push(event.state);
  });

  backend.healthy = false;
  await until(() => states.includes('pending'), 5000, 'pending');
  // Pending is not notified.
  assert.equal(receiver.received.length, 0);
  const pending = (await (await fetch(`${admin}/api/alerts`)).json()) as { active: Array<{ state: string }> };
  assert.equal(pending.active[0]?.state, 'pending');

  await until(() => alertsOf(receiver.received, 'firing').length > 0, 5000, 'firing delivered');
  assert.deepEqual(
    receiver.received.map((r) => r.status),
    [503, 200],
    'the 503 was retried and the retry delivered',
  );
  const delivered = receiver.received[1]!;
  assert.equal(delivered.path, '/hook');
  assert.equal(delivered.headers.authorization, 'Bearer s3cret');
  const body = delivered.body as WebhookBody;
  assert.equal(body.version, '4');
  assert.equal(body.status, 'firing');
  assert.equal(body.receiver, 'hook');
  assert.equal(body.externalURL, admin);
  const firing = body.alerts[0]!;
  assert.deepEqual(firing.labels, {
    alertname: 'ApiServerDown',
    severity: 'critical',
    team: 'core',
    upstream: 'api',
    server: `127.0.0.1:${backend.port}`,
  });
  assert.equal(firing.annotations.summary, `127.0.0.1:${backend.port} of api is down`);
  assert.equal(firing.endsAt, '0001-01-01T00:00:00Z');
  assert.match(firing.fingerprint, /^[0-9a-f]{16}$/);
  assert.ok(states.indexOf('firing') > states.indexOf('pending'));

  const view = (await (await fetch(`${admin}/api/alerts`)).json()) as {
    active: Array<{ name: string; state: string }>;
    notifiers: Array<{ name: string; sent: number; retries: number; url: string }>;
  };
  assert.equal(view.active[0]?.state, 'firing');
  assert.equal(view.notifiers[0]?.sent, 1);
  assert.equal(view.notifiers[0]?.retries, 1);
  // The receiver URL's path may be a secret (a Slack hook is): only its origin is shown.
  assert.equal(view.notifiers[0]?.url, `${receiver.url}/***`);

  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(metrics, /gatewise_alerts\{alertname="ApiServerDown",severity="critical",state="firing"\} 1/);
  assert.match(metrics, /gatewise_alert_notifications_total\{notifier="hook",result="sent"\} 1/);
  assert.match(metrics, /gatewise_alert_notifications_total\{notifier="hook",result="retries"\} 1/);

  backend.healthy = true;
  await until(() => alertsOf(receiver.received, 'resolved').length > 0, 5000, 'resolved delivered');
  const resolved = alertsOf(receiver.received, 'resolved')[0]!;
  assert.equal(resolved.fingerprint, firing.fingerprint);
  assert.equal(resolved.startsAt, firing.startsAt);
  assert.ok(Date.parse(resolved.endsAt) >= Date.parse(firing.startsAt));
  const after = (await (await fetch(`${admin}/api/alerts`)).json()) as {
    active: unknown[];
    resolved: Array<{ name: string; resolved_at: string }>;
  };
  assert.equal(after.active.length, 0);
  assert.equal(after.resolved[0]?.name, 'ApiServerDown');
  assert.deepEqual(states, ['pending', 'firing', 'resolved']);
});

test('a condition shorter than `for` stays pending and is never notified', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const receiver = await startReceiver(t);
  const { service } = await startService(
    t,
    `${checkedApi(backend.url)}  rules: [{ name: Down, server_unhealthy: {}, for: 1h }]
  notifiers: [{ type: webhook, url: ${receiver.url} }]
`,
  );
  const states: string[] = [];
  service.events.on((event) => {
    if (event.kind === 'alert') states.push(event.state);
  });
  backend.healthy = false;
  await until(() => states.includes('pending'), 5000, 'pending');
  backend.healthy = true;
  await until(() => service.alerts.alerts().active.length === 0, 5000, 'pending alert dropped');
  assert.deepEqual(states, ['pending']);
  assert.equal(receiver.received.length, 0);
  assert.equal(service.alerts.alerts().resolved.length, 0, 'an alert that never fired is not "resolved"');
});

test('an error ratio over its window fires with the ratio as value; Slack gets a readable message', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const slack = await startReceiver(t);
  const { port, service } = await startService(
    t,
    `upstreams:
  api:
    servers: [{ url: ${backend.url} }]
routes: [{ match: { path: / }, upstream: api }]
alerts:
  default_rules: false
  evaluate_every: 50ms
  rules:
    - name: ApiErrors
      error_ratio: { status_class: 5xx, above: 20%, window: 1m, min_requests: 10 }
      annotations: { summary: "{{ $value | humanizePercentage }} of {{ $labels.upstream }} answers are 5xx" }
  notifiers: [{ type: slack, url: ${slack.url}/services/T0/B0/x }]
`,
  );
  // 6 good answers then 4 errors: 40% over the window, above the 20% limit.
  for (let i = 0; i < 6; i++) assert.equal((await get(port, '/')).status, 200);
  backend.status = 500;
  for (let i = 0; i < 4; i++) assert.equal((await get(port, '/')).status, 500);
  await until(() => slack.received.length > 0, 5000, 'slack message');
  const alert = service.alerts.alerts().active[0]!;
  assert.equal(alert.state, 'firing');
  assert.equal(alert.value, 0.4);
  assert.equal(alert.annotations.summary, '40% of api answers are 5xx');
  const text = (slack.received[0]!.body as { text: string }).text;
  assert.match(text, /^:red_circle: \*FIRING\* ApiErrors \(warning\) — api: 40% of api answers are 5xx/);
});

test('below min_requests a ratio means nothing and does not fire', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  backend.status = 500;
  const { port, service } = await startService(
    t,
    `upstreams:
  api: { servers: [{ url: ${backend.url} }] }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  default_rules: false
  evaluate_every: 50ms
  rules: [{ name: ApiErrors, error_ratio: { above: 1%, min_requests: 50 } }]
`,
  );
  for (let i = 0; i < 5; i++) assert.equal((await get(port, '/')).status, 500);
  service.alerts.evaluate();
  assert.deepEqual(service.alerts.alerts().active, []);
});

test('a receiver that keeps failing gets every attempt, then the notification is given up and counted', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const receiver = await startReceiver(t);
  receiver.answers.push(500, 502, 503);
  const { service } = await startService(
    t,
    `${checkedApi(backend.url)}  rules: [{ name: Down, server_unhealthy: {} }]
  notifiers: [{ name: flaky, type: webhook, url: ${receiver.url}, retries: { attempts: 3, backoff: 20ms } }]
`,
  );
  backend.healthy = false;
  await until(() => service.alerts.notifierStats()[0]!.failed === 1, 5000, 'given up');
  const stats = service.alerts.notifierStats()[0]!;
  assert.equal(receiver.received.length, 3);
  assert.equal(stats.sent, 0);
  assert.equal(stats.retries, 2);
  assert.equal(stats.last_error, 'receiver answered 503');
});

test('a 4xx from the receiver is a refusal of the payload: not retried', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const receiver = await startReceiver(t);
  receiver.answers.push(400);
  const { service } = await startService(
    t,
    `${checkedApi(backend.url)}  rules: [{ name: Down, server_unhealthy: {} }]
  notifiers: [{ type: webhook, url: ${receiver.url}, retries: { attempts: 5, backoff: 20ms } }]
`,
  );
  backend.healthy = false;
  await until(() => service.alerts.notifierStats()[0]!.failed === 1, 5000, 'given up');
  assert.equal(receiver.received.length, 1);
  assert.equal(service.alerts.notifierStats()[0]!.name, 'webhook_0');
});

test('keep_firing_for holds a firing alert through a short recovery', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const { service } = await startService(
    t,
    `${checkedApi(backend.url)}  rules: [{ name: Down, server_unhealthy: {}, keep_firing_for: 1h }]
`,
  );
  backend.healthy = false;
  await until(() => service.alerts.alerts().active[0]?.state === 'firing', 5000, 'firing');
  backend.healthy = true;
  await until(() => service.gateway.runtime.guards.get('api')!.servers[0]!.healthy, 5000, 'server healthy again');
  service.alerts.evaluate();
  assert.equal(service.alerts.alerts().active[0]?.state, 'firing');
});

test('a reload keeps the state of rules it keeps, and resolves the alerts of rules it removes', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const receiver = await startReceiver(t);
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-alert-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gatewise.yaml');
  const write = (rules: string) =>
    writeFileSync(
      file,
      `listen: [{ address: 127.0.0.1:0 }]
admin: { address: 127.0.0.1:0 }
log: { access: false, level: error }
upstreams:
  api:
    servers: [{ url: ${backend.url} }]
    health: { active: { interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 } }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  default_rules: false
  evaluate_every: 50ms
  rules: [${rules}]
  notifiers: [{ type: webhook, url: ${receiver.url} }]
`,
    );
  write('{ name: Down, server_unhealthy: {} }, { name: AlsoDown, server_unhealthy: {} }');
  const service = new Service({ config: await loadConfigFile(file), configFile: file });
  await service.start();
  t.after(() => service.stop());
  backend.healthy = false;
  await until(
    () => service.alerts.alerts().active.filter((a) => a.state === 'firing').length === 2,
    5000,
    'both firing',
  );
  const since = service.alerts.alerts().active.find((a) => a.name === 'Down')!.firing_since;

  write('{ name: Down, server_unhealthy: {}, severity: warning }');
  assert.deepEqual(await service.reload(), { ok: true, generation: service.gateway.runtime.generation });
  await until(() => alertsOf(receiver.received, 'resolved').length > 0, 5000, 'removed rule resolved');
  assert.deepEqual(
    alertsOf(receiver.received, 'resolved').map((a) => a.labels.alertname),
    ['AlsoDown'],
  );
  // The unchanged notifier was kept: one count across the reload.
  assert.equal(service.alerts.notifierStats()[0]!.sent, receiver.received.length);
  const kept = service.alerts.alerts().active;
  assert.deepEqual(
    kept.map((a) => [a.name, a.state, a.firing_since]),
    [['Down', 'firing', since]],
  );
});
