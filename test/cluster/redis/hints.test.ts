/**
 * Ejection hints across three nodes sharing one real Redis: a backend that dies is seen by one node;
 * the others probe it at once and stop using it within a second, long before their own checks would
 * have; a hint this node's own probe contradicts is dropped; a hint never takes out the last server.
 */
import { strict as assert } from 'node:assert';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { delay, until } from '../../support/load.js';
import { startRedis } from '../../support/redis.js';
import { startSwitchUpstream } from '../../support/switch-upstream.js';
import { closeAgent, get, startNode } from './nodes.js';

after(closeAgent);

/**
 * Active checks every 10 s (three failures to go unhealthy): alone, a node needs half a minute to
 * notice a dead server. Passive health ejects after one failed request.
 */
function slowChecks(urls: readonly string[]): string {
  return `upstreams:
  api:
    servers:
${urls.map((url) => `      - url: ${url}`).join('\n')}
    health:
      active: { interval: 10s, timeout: 300ms, unhealthy_after: 3, healthy_after: 1 }
      passive: { failures: 1, eject_for: 30s }
routes:
  - match: { path: / }
    upstream: api
`;
}

test('a backend that dies is seen by one node; the others stop using it within 1 s of its ejection', async (t) => {
  const redis = await startRedis(t);
  const a = await startSwitchUpstream('a');
  const b = await startSwitchUpstream('b');
  t.after(() => a.close());
  t.after(() => b.close());
  const body = slowChecks([a.url, b.url]);
  const [n1, n2, n3] = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(t, id, redis.url, body)));
  const bAddress = `127.0.0.1:${b.port}`;
  const bIndex = 1;
  const serverB = (node: typeof n1) => node!.gateway.runtime.upstreams.get('api')!.servers[bIndex]!;
  const guardOf = (node: typeof n1) => node!.gateway.runtime.guards.get('api')!;

  let ejectedAt = 0;
  n1!.events.on((event) => {
    if (event.kind === 'ejected' && event.server === bAddress) ejectedAt ||= Date.now();
  });
  await b.close();
  // Only n1 gets traffic: round robin sends one request to b, which fails, is retried on a (the
  // client sees 200) and ejects b on n1.
  for (let i = 0; i < 4 && ejectedAt === 0; i++) assert.equal((await get(n1!.port)).status, 200);
  assert.ok(ejectedAt > 0, 'n1 ejected b');

  await until(() => !serverB(n2).available && !serverB(n3).available, 1000, 'n2 and n3 stop using b');
  const tookMs = Date.now() - ejectedAt;
  t.diagnostic(`n2 and n3 took b out ${tookMs} ms after n1 ejected it`);
  assert.ok(tookMs <= 1000);
  for (const node of [n2, n3]) {
    const guard = guardOf(node);
    // Their own state did not decide: not ejected, checks not (yet) unhealthy. The hint holds b out.
    assert.equal(guard.isEjected(bIndex), false);
    assert.equal(guard.servers[bIndex]!.healthy, true);
    assert.equal(guard.isHinted(bIndex), true);
    assert.ok(guard.snapshot(bIndex).hinted_until !== undefined);
    assert.ok(
      node!.infos.some((r) => /ejection hint/.test(String(r.msg)) && r.from_node === 'n1' && r.server === bAddress),
    );
    assert.equal(node!.shared.hints.stats.applied, 1);
  }
  assert.ok(n1!.shared.hints.stats.published >= 1);

  // Requests through n2 and n3 go to a only: not one try meets the dead b.
  for (let i = 0; i < 10; i++) {
    const node = i % 2 === 0 ? n2! : n3!;
    const answer = await get(node.port);
    assert.equal(answer.status, 200);
    assert.equal(answer.server, 'a');
  }
  assert.deepEqual(n2!.failures, []);
  assert.deepEqual(n3!.failures, []);
  const metrics = await n2!.metrics.register.metrics();
  assert.match(metrics, /^gatewise_ejection_hints_total\{result="applied"\} 1$/m);
});

test("a hint that this node's own probe contradicts is dropped at once; one for the last server is not applied", async (t) => {
  const redis = await startRedis(t);
  const a = await startSwitchUpstream('a');
  const b = await startSwitchUpstream('b');
  t.after(() => a.close());
  t.after(() => b.close());
  const node = await startNode(t, 'n1', redis.url, slowChecks([a.url, b.url]));
  const publisher = new Redis(redis.url, { lazyConnect: true });
  await publisher.connect();
  t.after(() => publisher.disconnect());
  const guard = node.gateway.runtime.guards.get('api')!;
  const servers = node.gateway.runtime.upstreams.get('api')!.servers;
  const hint = (server: string) =>
    publisher.publish(
      'gatewise:hints',
      JSON.stringify({ node_id: 'elsewhere', upstream: 'api', server, reason: 'consecutive_failures', at: '' }),
    );

  // b is fine as far as this node can see: its probe passes and the hint goes.
  await hint(`127.0.0.1:${b.port}`);
  await until(() => node.shared.hints.stats.applied === 1, 1000, 'hint applied');
  await until(() => !guard.isHinted(1) && servers[1]!.available, 2000, 'hint dropped after a passing probe');

  // b really gone and hinted; then a hint for a, whose checks now fail too (it still serves): hints
  // alone would leave no server, so this node goes by its own state and a stays in.
  await b.close();
  await hint(`127.0.0.1:${b.port}`);
  await until(() => !servers[1]!.available, 1000, 'b held out by its hint');
  a.healthy = false;
  await hint(`127.0.0.1:${a.port}`);
  await until(() => node.shared.hints.stats.applied === 3, 1000, 'third hint received');
  await delay(300);
  assert.equal(guard.isHinted(0), true, 'the probe of a failed: its hint stands');
  assert.equal(servers[0]!.available, true, 'the last usable server stays in');
  const answer = await get(node.port);
  assert.equal(answer.status, 200);
  assert.equal(answer.server, 'a');

  // Hints from this node itself, for unknown servers, or not hints at all change nothing.
  const received = node.shared.hints.stats.received;
  await publisher.publish(
    'gatewise:hints',
    JSON.stringify({ node_id: 'n1', upstream: 'api', server: `127.0.0.1:${a.port}`, reason: 'x', at: '' }),
  );
  await publisher.publish('gatewise:hints', 'not json');
  await hint('10.9.9.9:1');
  await until(() => node.shared.hints.stats.ignored === 2, 1000, 'two ignored');
  assert.equal(node.shared.hints.stats.received, received + 1, 'its own hint is not counted as received');
  // A worker process of the same node (same node_id, another instance) is another observer.
  await publisher.publish(
    'gatewise:hints',
    JSON.stringify({
      node_id: 'n1',
      instance: 'sibling',
      upstream: 'api',
      server: `127.0.0.1:${b.port}`,
      reason: 'x',
      at: '',
    }),
  );
  await until(() => node.shared.hints.stats.applied === 4, 1000, 'a sibling worker hint applied');
});
