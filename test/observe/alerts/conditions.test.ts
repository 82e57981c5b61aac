/**
 * Each condition kind on a whole Gatewise with real backends: latency, no available server, breaker
 * open, queue saturation. Rules are evaluated on demand (the timer is set to an hour).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startUpstream } from '../../../src/drill/upstreams.js';
import { until } from '../../support/load.js';
import { get } from '../../support/raw-client.js';
import { startService } from '../../support/service.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';

const MANUAL = 'default_rules: false\n  evaluate_every: 1h';

test('latency: the p99 time to first byte over its limit fires, with the quantile in seconds', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  backend.delayMs = 60;
  const { port, service } = await startService(
    t,
    `upstreams:
  api: { servers: [{ url: ${backend.url} }] }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  ${MANUAL}
  rules:
    - { name: Slow, latency: { above: 30ms, min_requests: 3 } }
    - { name: Relaxed, latency: { above: 10s, min_requests: 3 } }
`,
  );
  await Promise.all([get(port, '/'), get(port, '/'), get(port, '/')]);
  service.alerts.evaluate();
  const active = service.alerts.alerts().active;
  assert.deepEqual(
    active.map((a) => a.name),
    ['Slow'],
  );
  // 60 ms lands in the (50 ms, 100 ms] bucket of the TTFB histogram; interpolated, as Prometheus does.
  assert.ok(active[0]!.value > 0.05 && active[0]!.value <= 0.1, String(active[0]!.value));
  assert.deepEqual(active[0]!.labels, { alertname: 'Slow', severity: 'warning', upstream: 'api' });
});

test('upstream_unavailable fires when every server is out, and not before', async (t) => {
  const good = await startSwitchUpstream('good');
  const bad = await startUpstream('refuse');
  t.after(() => good.close());
  t.after(() => bad.close());
  const { port, service } = await startService(
    t,
    `upstreams:
  api:
    servers: [{ url: ${good.url} }, { url: ${bad.url} }]
    health: { passive: { failures: 1, eject_for: 1m, max_ejected_percent: 100 } }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  ${MANUAL}
  rules: [{ name: Down, upstream_unavailable: {}, severity: critical }]
`,
  );
  for (let i = 0; i < 4; i++) await get(port, '/');
  service.alerts.evaluate();
  assert.deepEqual(service.alerts.alerts().active, [], 'one server is still available');
  await good.close();
  for (let i = 0; i < 4; i++) await get(port, '/');
  await until(() => service.gateway.runtime.upstreams.get('api')!.servers.every((s) => !s.available), 5000, 'all out');
  service.alerts.evaluate();
  const [alert] = service.alerts.alerts().active;
  assert.equal(alert?.name, 'Down');
  assert.equal(alert?.state, 'firing');
  assert.deepEqual(alert?.labels, { alertname: 'Down', severity: 'critical', upstream: 'api' });
});

test('breaker_open fires per server whose breaker opened', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  backend.status = 503;
  const { port, service } = await startService(
    t,
    `upstreams:
  api:
    servers: [{ url: ${backend.url} }]
    breaker: { consecutive_failures: 3, open_for: 1m }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  ${MANUAL}
  rules: [{ name: Breaker, breaker_open: {} }]
`,
  );
  for (let i = 0; i < 3; i++) await get(port, '/');
  service.alerts.evaluate();
  const [alert] = service.alerts.alerts().active;
  assert.equal(alert?.name, 'Breaker');
  assert.equal(alert?.labels.server, `127.0.0.1:${backend.port}`);
});

test('queue_saturation: in flight plus queued over max_inflight plus queue; the wait is measured', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  backend.delayMs = 400;
  const { port, service, admin } = await startService(
    t,
    `upstreams:
  api:
    servers: [{ url: ${backend.url} }]
    limits: { max_inflight: 2, queue: 2, queue_timeout: 5s }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  ${MANUAL}
  rules: [{ name: Full, queue_saturation: { above: 70% } }]
`,
  );
  const requests = [get(port, '/'), get(port, '/'), get(port, '/')];
  const guard = service.gateway.runtime.guards.get('api')!;
  await until(() => guard.queue.inflight === 2 && guard.queue.length === 1, 5000, '2 in flight, 1 queued');
  service.alerts.evaluate();
  const [alert] = service.alerts.alerts().active;
  assert.equal(alert?.name, 'Full');
  assert.equal(alert?.value, 0.75);
  await Promise.all(requests);
  service.alerts.evaluate();
  assert.deepEqual(service.alerts.alerts().active, []);
  assert.equal(service.alerts.alerts().resolved[0]?.name, 'Full');
  // The queued request waited for a slot, freed when a first answer came after the backend's 400 ms.
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(metrics, /gatewise_upstream_queue_wait_seconds_count\{upstream="api"\} 1\n/);
  const sum = Number(/gatewise_upstream_queue_wait_seconds_sum\{upstream="api"\} ([\d.e-]+)/.exec(metrics)?.[1]);
  assert.ok(sum >= 0.35, `queue wait ${sum}`);
});
