/**
 * `gatewise drill --target`: a Gatewise already running (its servers behind a fault proxy driven
 * through the Toxiproxy API) drilled from outside, through its admin API only.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runRemoteDrills } from '../../src/drill/drill.js';
import { FaultProxyServer } from '../../src/drill/faults/index.js';
import { pickScenarios } from '../../src/drill/scenarios.js';
import { ToxiproxyClient } from '../../src/drill/toxiproxy-client.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/nginx.js';
import { startService } from '../support/service.js';

test('a running Gatewise behind a fault proxy is drilled through its admin API', async (t) => {
  const a = await startUpstream('ok', { name: 'a' });
  const b = await startUpstream('ok', { name: 'b' });
  t.after(() => a.close());
  t.after(() => b.close());
  const faults = await FaultProxyServer.start({ control: '127.0.0.1:0' });
  t.after(() => faults.close());
  const client = new ToxiproxyClient(faults.controlUrl!);
  const [pa, pb] = [await freePort(), await freePort()];
  await client.createProxy({ name: 'api_a', listen: `127.0.0.1:${pa}`, upstream: `127.0.0.1:${a.port}` });
  await client.createProxy({ name: 'api_b', listen: `127.0.0.1:${pb}`, upstream: `127.0.0.1:${b.port}` });
  const { admin, port } = await startService(
    t,
    `upstreams:
  api:
    servers: [{ url: http://127.0.0.1:${pa} }, { url: http://127.0.0.1:${pb} }]
    timeouts: { read: 800ms }
    health:
      active: { path: /health, interval: 200ms, timeout: 150ms, healthy_after: 1, unhealthy_after: 2 }
      passive: { failures: 2, eject_for: 1s }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  evaluate_every: 100ms
  rules: [{ name: ApiServerOut, server_unhealthy: {}, for: 200ms }]
`,
  );
  const scenarios = pickScenarios(['backend_down', 'slow_backend'], false, true);
  const results = await runRemoteDrills(
    { admin, gateway: `http://127.0.0.1:${port}`, faults: faults.controlUrl!, alert: 'ApiServerOut' },
    { scenarios, timings: { warmupMs: 500, holdMs: 2500, recoverTimeoutMs: 15_000, rps: 30 } },
  );
  const failed = results.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.name}: ${c.name}: ${c.detail}`));
  assert.deepEqual(failed, []);
  assert.ok((results[0]!.failures['connection_refused/backend_down'] ?? 0) > 0);
  // The slow fault went beyond this gateway's own read timeout (800 ms), read from its config.
  assert.ok((results[1]!.failures['connection_read_timeout/slow_backend'] ?? 0) > 0);
  // The proxies are left as they were.
  const proxies = await client.proxies();
  assert.ok(Object.values(proxies).every((p) => p.enabled !== false && p.toxics.length === 0));
});

test('--target needs the gateway and the fault proxy, and refuses sandbox-only scenarios', async () => {
  const missing = await runCli(['drill', '--target', 'http://127.0.0.1:9']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--target needs --gateway/);
  const local = await runCli([
    'drill',
    '--target',
    'http://127.0.0.1:9',
    '--gateway',
    'http://127.0.0.1:9',
    '--faults',
    'http://127.0.0.1:9',
    '--scenario',
    'crash_or_oom',
  ]);
  assert.equal(local.code, 2);
  assert.match(local.stderr, /crash_or_oom run only in a sandbox/);
});
