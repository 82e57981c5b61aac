/** Draining a server through the admin API: no new requests, in-flight ones finish. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { load } from '../support/load.js';
import { get } from '../support/raw-client.js';
import { startService } from '../support/service.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';

test('drain and undrain a server through the admin API', async (t) => {
  const a = await startSwitchUpstream('a');
  const b = await startSwitchUpstream('b');
  t.after(() => a.close());
  t.after(() => b.close());
  const { port, admin } = await startService(
    t,
    `upstreams:
  api: { servers: [{ url: ${a.url} }, { url: ${b.url} }] }
routes:
  - match: { path: / }
    upstream: api
`,
  );

  // An in-flight request on b survives the drain.
  b.delayMs = 300;
  await get(port, '/warm'); // a
  const inflight = get(port, '/slow'); // b
  await new Promise((r) => setTimeout(r, 50));
  const drained = await fetch(`${admin}/api/upstreams/api/servers/1/drain`, { method: 'POST' });
  assert.equal(drained.status, 200);
  assert.deepEqual(((await drained.json()) as { draining: boolean }).draining, true);
  assert.equal((await inflight).status, 200);
  b.delayMs = 0;

  const before = b.hits;
  const origin = `http://127.0.0.1:${port}`;
  const result = await load(origin, { requests: 20, concurrency: 2, path: '/x' });
  assert.deepEqual(result.errors, []);
  assert.equal(b.hits, before, 'a drained server gets no new requests');

  const status = (await (await fetch(`${admin}/api/status`)).json()) as {
    upstreams: Array<{ servers: Array<{ draining: boolean }> }>;
  };
  assert.equal(status.upstreams[0]!.servers[1]!.draining, true);

  const events = (await (await fetch(`${admin}/api/events`)).json()) as { recent: Array<{ kind: string }> };
  assert.ok(events.recent.some((e) => e.kind === 'drain'));

  assert.equal((await fetch(`${admin}/api/upstreams/api/servers/1/undrain`, { method: 'POST' })).status, 200);
  await load(origin, { requests: 20, concurrency: 2, path: '/x' });
  assert.ok(b.hits > before, 'undrained server serves again');

  assert.equal((await fetch(`${admin}/api/upstreams/nope/servers/0/drain`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${admin}/api/upstreams/api/servers/9/drain`, { method: 'POST' })).status, 404);
});
