/**
 * Alert de-duplication across three nodes sharing one real Redis: the same alert firing on every node
 * reaches a real webhook receiver once, and its resolution once; without Redis every node sends (a
 * duplicate beats silence).
 */
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';
import { checkedApi } from '../../support/alerting.js';
import { delay, until } from '../../support/load.js';
import { type Received, startReceiver } from '../../support/receiver.js';
import { startRedis } from '../../support/redis.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';
import { type ClusterNode, closeAgent, startNode } from './nodes.js';

after(closeAgent);

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  fingerprint: string;
}

const alertsOf = (received: Received[], status: string): WebhookAlert[] =>
  received.flatMap((r) => (r.body as { alerts: WebhookAlert[] }).alerts).filter((a) => a.status === status);

function alertingConfig(backendUrl: string, hookUrl: string): string {
  return `${checkedApi(backendUrl)}  rules:
    - name: ApiServerDown
      server_unhealthy: {}
      for: 200ms
      severity: critical
  notifiers: [{ type: webhook, url: ${hookUrl}/hook }]
`;
}

const firingEverywhere = (nodes: ClusterNode[], state: string) =>
  nodes.every((n) => n.alerts.alerts().active.some((a) => a.name === 'ApiServerDown' && a.state === state));

test('one alert firing on three nodes reaches the webhook once, and its resolution once', async (t) => {
  const redis = await startRedis(t);
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const hook = await startReceiver(t);
  const body = alertingConfig(backend.url, hook.url);
  const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(t, id, redis.url, body)));

  backend.healthy = false;
  await until(() => firingEverywhere(nodes, 'firing'), 5000, 'the alert fires on every node');
  await until(() => alertsOf(hook.received, 'firing').length > 0, 2000, 'a firing notification');
  // Every node has had its say: more evaluations (every 50 ms) must not send it again.
  await delay(400);
  assert.equal(alertsOf(hook.received, 'firing').length, 1, 'firing sent once for the cluster');
  const claims = nodes.map((n) => n.shared.alerts.stats);
  assert.equal(
    claims.reduce((sum, c) => sum + c.won, 0),
    1,
  );
  assert.equal(
    claims.reduce((sum, c) => sum + c.lost, 0),
    2,
  );

  backend.healthy = true;
  await until(
    () => nodes.every((n) => n.alerts.alerts().active.length === 0),
    5000,
    'the alert resolves on every node',
  );
  await until(() => alertsOf(hook.received, 'resolved').length > 0, 2000, 'a resolved notification');
  await delay(400);
  assert.equal(alertsOf(hook.received, 'resolved').length, 1, 'resolved sent once for the cluster');
  assert.equal(alertsOf(hook.received, 'firing').length, 1);

  // It fires again later: that is a new notification, claimed anew.
  backend.healthy = false;
  await until(() => alertsOf(hook.received, 'firing').length === 2, 5000, 'the second firing notified');
  await delay(400);
  assert.equal(alertsOf(hook.received, 'firing').length, 2);
  const metrics = await nodes[0]!.metrics.register.metrics();
  assert.match(metrics, /^gatewise_alert_claims_total\{result="won"\} \d+$/m);
});

test('Redis unreachable: every node sends its own notification', async (t) => {
  const redis = await startRedis(t);
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const hook = await startReceiver(t);
  const body = alertingConfig(backend.url, hook.url);
  const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(t, id, redis.url, body)));
  await redis.kill();
  await until(() => nodes.every((n) => !n.shared.link.up), 2000, 'every node sees Redis gone');

  backend.healthy = false;
  await until(() => alertsOf(hook.received, 'firing').length === 3, 5000, 'three firing notifications');
  await delay(300);
  assert.equal(alertsOf(hook.received, 'firing').length, 3);
  for (const node of nodes) assert.equal(node.shared.alerts.stats.unclaimed, 1);
});
