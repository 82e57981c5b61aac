/**
 * The "prevent" half, end to end on loopback: losing a backend, a slow one, one that closes idle
 * connections early, or a burst costs no 502 while a healthy server exists. Counts, not timings.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { startGateway } from '../support/gateway.js';
import { delay, load, until } from '../support/load.js';
import { get } from '../support/raw-client.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';

function upstreamConfig(urls: string[], extra: string): string {
  return `upstreams:
  api:
    servers:
${urls.map((u) => `      - url: ${u}`).join('\n')}
${extra}
routes:
  - match: { path: / }
    upstream: api
`;
}

test('two servers, one refusing: no client errors', async (t) => {
  const good = await startUpstream('ok', { name: 'good' });
  const bad = await startUpstream('refuse');
  t.after(() => good.close());
  t.after(() => bad.close());
  const gw = await startGateway(upstreamConfig([good.url, bad.url], ''));
  t.after(() => gw.close());
  const result = await load(gw.url, { requests: 200, concurrency: 4, path: '/health' });
  assert.deepEqual(result.errors, []);
  assert.equal(result.statuses.filter((s) => s !== 200).length, 0);
  // Passive health ejected the refusing server: far fewer failed tries than requests.
  assert.ok(gw.failures.length < 20, `${gw.failures.length} failed tries`);
});

test('one of two servers killed under sustained load: no client errors for GET', async (t) => {
  const a = await startUpstream('ok', { name: 'a' });
  const b = await startUpstream('ok', { name: 'b' });
  t.after(() => a.close());
  t.after(() => b.close());
  const gw = await startGateway(upstreamConfig([a.url, b.url], ''));
  t.after(() => gw.close());
  let killed = false;
  const result = await load(gw.url, {
    requests: 600,
    concurrency: 8,
    path: '/bytes/2000',
    during: (i) => {
      if (i === 200 && !killed) {
        killed = true;
        void b.close(); // listener closed and every open socket destroyed
      }
    },
  });
  assert.equal(killed, true);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(
    result.statuses.filter((s) => s !== 200),
    [],
  );
});

test('a backend with a keep-alive timeout shorter than the gaps: no errors for GETs nor POSTs', async (t) => {
  const up = await startUpstream('ok', { name: 'short', keepAliveTimeoutS: 1 });
  t.after(() => up.close());
  const gw = await startGateway(upstreamConfig([up.url], ''));
  t.after(() => gw.close());
  let errors = 0;
  for (let i = 0; i < 4; i++) {
    const getReply = await get(gw.port, '/health');
    const post = await fetch(`${gw.url}/upload`, { method: 'POST', body: 'small body' });
    if (getReply.status !== 200 || post.status !== 200) errors++;
    await post.text();
    await delay(1100);
  }
  assert.equal(errors, 0);
});

test('a POST to a backend that never answers: 504, and the backend saw it exactly once', async (t) => {
  const hang = await startUpstream('hang');
  t.after(() => hang.close());
  const gw = await startGateway(
    upstreamConfig([hang.url], '    timeouts: { connect: 1s, send: 1s, read: 300ms }\n    retries: { attempts: 3 }'),
  );
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/order`, { method: 'POST', body: 'pay once' });
  assert.equal(res.status, 504);
  assert.equal(res.headers.get('proxy-status'), 'gatewise; error=connection_read_timeout');
  await res.text();
  assert.equal(hang.requests, 1);
});

test('passive ejection and recovery', async (t) => {
  const good = await startSwitchUpstream('good');
  const bad = await startSwitchUpstream('bad');
  bad.status = 502;
  t.after(() => good.close());
  t.after(() => bad.close());
  const gw = await startGateway(
    upstreamConfig(
      [good.url, bad.url],
      '    health: { passive: { failures: 2, window: 10s, eject_for: 600ms, statuses: [502] } }\n    retries: { attempts: 1 }',
    ),
  );
  t.after(() => gw.close());
  const events: string[] = [];
  gw.gateway.events.on((e) => events.push(e.kind));
  await load(gw.url, { requests: 40, concurrency: 1, path: '/x' });
  const badHitsWhileEjected = bad.hits;
  assert.ok(badHitsWhileEjected <= 3, `bad server got ${badHitsWhileEjected} requests`);
  assert.ok(events.includes('ejected'));
  // The ejection ends; the server is healthy again and gets its share.
  bad.status = 200;
  await delay(800);
  await load(gw.url, { requests: 20, concurrency: 1, path: '/x' });
  assert.ok(bad.hits >= badHitsWhileEjected + 5, `bad server got ${bad.hits - badHitsWhileEjected} after recovery`);
  assert.ok(events.includes('restored'));
});

test('active checks: unhealthy servers are skipped; all down gives 503 destination_unavailable without connecting', async (t) => {
  const a = await startUpstream('full_backlog');
  const b = await startUpstream('full_backlog');
  t.after(() => a.close());
  t.after(() => b.close());
  const gw = await startGateway(
    upstreamConfig(
      [a.url, b.url],
      '    timeouts: { connect: 5s }\n    health: { active: { type: tcp, interval: 100ms, timeout: 100ms, unhealthy_after: 1, healthy_after: 1 } }',
    ),
  );
  t.after(() => gw.close());
  await until(
    () => gw.gateway.runtime.upstreams.get('api')!.servers.every((s) => !s.available),
    5000,
    'both unhealthy',
  );
  const reply = await get(gw.port, '/', { Accept: 'application/json' });
  assert.equal(reply.status, 503);
  assert.equal(reply.headers.get('proxy-status'), 'gatewise; error=destination_unavailable');
  assert.ok(reply.headers.get('retry-after'));
  // No try was made at all, so nothing waited for the 5 s connect timeout.
  assert.equal(gw.failures.length, 0);
});

test('backup servers serve only when every primary is out', async (t) => {
  const primary = await startSwitchUpstream('primary');
  const backup = await startSwitchUpstream('backup');
  t.after(() => primary.close());
  t.after(() => backup.close());
  const gw = await startGateway(`upstreams:
  api:
    servers:
      - url: ${primary.url}
      - url: ${backup.url}
        backup: true
    health: { active: { interval: 100ms, timeout: 100ms, unhealthy_after: 1, healthy_after: 1 } }
routes:
  - match: { path: / }
    upstream: api
`);
  t.after(() => gw.close());
  await load(gw.url, { requests: 10, concurrency: 1, path: '/x' });
  assert.equal(backup.hits, 0);
  primary.healthy = false;
  const servers = gw.gateway.runtime.upstreams.get('api')!.servers;
  await until(() => !servers[0]!.available, 5000, 'primary out');
  await load(gw.url, { requests: 10, concurrency: 1, path: '/x' });
  assert.equal(backup.hits, 10);
  primary.healthy = true;
  await until(() => servers[0]!.available, 5000, 'primary back');
  const before = backup.hits;
  await load(gw.url, { requests: 10, concurrency: 1, path: '/x' });
  assert.equal(backup.hits, before);
});

test('panic threshold: with too few healthy primaries, load spreads over all of them', async (t) => {
  const ups = await Promise.all(['a', 'b', 'c', 'd'].map((n) => startSwitchUpstream(n)));
  for (const u of ups) t.after(() => u.close());
  for (const u of ups.slice(1)) u.healthy = false; // 1 of 4 healthy: 25% < 50%
  const gw = await startGateway(
    upstreamConfig(
      ups.map((u) => u.url),
      '    health: { active: { interval: 100ms, timeout: 100ms, unhealthy_after: 1, healthy_after: 1 }, panic_threshold: 50% }',
    ),
  );
  t.after(() => gw.close());
  const events: Array<{ kind: string; active?: boolean }> = [];
  gw.gateway.events.on((e) => events.push(e as { kind: string; active?: boolean }));
  await until(() => events.some((e) => e.kind === 'panic' && e.active === true), 5000, 'panic');
  await load(gw.url, { requests: 40, concurrency: 1, path: '/x' });
  for (const u of ups) assert.ok(u.hits >= 5, `every server gets traffic in panic mode (${ups.map((x) => x.hits)})`);
  // Two of four healthy is not below 50%: health is trusted again.
  ups[1]!.healthy = true;
  await until(() => events.some((e) => e.kind === 'panic' && e.active === false), 5000, 'panic over');
  const before = ups.map((u) => u.hits);
  await load(gw.url, { requests: 20, concurrency: 1, path: '/x' });
  assert.equal(ups[2]!.hits, before[2]);
  assert.equal(ups[3]!.hits, before[3]);
});

test('circuit breaker opens, half-opens and closes', async (t) => {
  const up = await startSwitchUpstream('flaky');
  up.status = 503;
  t.after(() => up.close());
  const gw = await startGateway(
    upstreamConfig(
      [up.url],
      '    retries: { attempts: 1 }\n    health: { passive: { failures: 100, statuses: [503] } }\n    breaker: { consecutive_failures: 3, open_for: 400ms, half_open_requests: 1, min_requests: 100 }',
    ),
  );
  t.after(() => gw.close());
  const transitions: string[] = [];
  gw.gateway.events.on((e) => {
    if (e.kind === 'breaker') transitions.push(`${e.from}->${e.to}`);
  });
  for (let i = 0; i < 3; i++) assert.equal((await get(gw.port, '/x')).status, 503);
  assert.deepEqual(transitions, ['closed->open']);
  // Open: refused at once by the gateway, the server is not asked.
  const hits = up.hits;
  const refused = await get(gw.port, '/x');
  assert.equal(refused.headers.get('proxy-status'), 'gatewise; error=destination_unavailable');
  assert.equal(up.hits, hits);
  // After open_for, one probe goes through; it succeeds and the breaker closes.
  up.status = 200;
  await delay(550);
  assert.equal((await get(gw.port, '/x')).status, 200);
  assert.deepEqual(transitions, ['closed->open', 'open->half_open', 'half_open->closed']);
});

test('load shedding: a bounded queue in front of max_inflight, then 503 with Retry-After', async (t) => {
  const up = await startSwitchUpstream('slow');
  up.delayMs = 400;
  t.after(() => up.close());
  const gw = await startGateway(
    upstreamConfig([up.url], '    limits: { max_inflight: 1, queue: 1, queue_timeout: 2s, retry_after: 3s }'),
  );
  t.after(() => gw.close());
  const replies = await Promise.all([
    get(gw.port, '/1'),
    delay(50).then(() => get(gw.port, '/2')),
    delay(100).then(() => get(gw.port, '/3')),
  ]);
  const statuses = replies.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 503]);
  const shed = replies.find((r) => r.status === 503)!;
  assert.equal(shed.headers.get('proxy-status'), 'gatewise; error=connection_limit_reached');
  assert.equal(shed.headers.get('retry-after'), '3');
  assert.equal(up.hits, 2);
});

test('a queued request that waits past queue_timeout is shed', async (t) => {
  const up = await startSwitchUpstream('slow');
  up.delayMs = 1500;
  t.after(() => up.close());
  const gw = await startGateway(
    upstreamConfig([up.url], '    limits: { max_inflight: 1, queue: 5, queue_timeout: 300ms }'),
  );
  t.after(() => gw.close());
  const [first, second] = await Promise.all([get(gw.port, '/1'), delay(50).then(() => get(gw.port, '/2'))]);
  assert.equal(first.status, 200);
  assert.equal(second.status, 503);
  assert.equal(second.headers.get('proxy-status'), 'gatewise; error=connection_limit_reached');
  assert.equal(up.hits, 1);
});

test('per-route rate limit: 429 with Retry-After beyond the burst', async (t) => {
  const up = await startSwitchUpstream('api');
  t.after(() => up.close());
  const gw = await startGateway(`upstreams:
  api: { servers: [{ url: ${up.url} }] }
routes:
  - match: { path: / }
    upstream: api
    rate_limit: { rate: 3, per: 1m }
`);
  t.after(() => gw.close());
  const statuses: number[] = [];
  let last = await get(gw.port, '/');
  statuses.push(last.status);
  for (let i = 0; i < 4; i++) {
    last = await get(gw.port, '/');
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  assert.ok(Number(last.headers.get('retry-after')) >= 1);
  assert.equal(up.hits, 3);
});

test('slow start: a server back to health ramps its weight up', async (t) => {
  const a = await startSwitchUpstream('a');
  const b = await startSwitchUpstream('b');
  t.after(() => a.close());
  t.after(() => b.close());
  const gw = await startGateway(`upstreams:
  api:
    servers:
      - url: ${a.url}
        weight: 10
      - url: ${b.url}
        weight: 10
    slow_start: 2s
    health: { active: { interval: 100ms, timeout: 100ms, unhealthy_after: 1, healthy_after: 1 } }
routes:
  - match: { path: / }
    upstream: api
`);
  t.after(() => gw.close());
  const servers = gw.gateway.runtime.upstreams.get('api')!.servers;
  b.healthy = false;
  await until(() => !servers[1]!.available, 5000, 'b out');
  b.healthy = true;
  await until(() => servers[1]!.available, 5000, 'b back');
  const early = servers[1]!.weight;
  assert.ok(early < 10, `weight right after recovery is ${early}`);
  await until(() => servers[1]!.weight === 10, 5000, 'full weight');
  assert.equal(servers[0]!.weight, 10);
});

test('per_try_timeout: a hanging server costs one short try, the retry answers', async (t) => {
  const hang = await startUpstream('hang');
  const good = await startUpstream('ok', { name: 'good' });
  t.after(() => hang.close());
  t.after(() => good.close());
  const gw = await startGateway(
    upstreamConfig(
      [hang.url, good.url],
      '    timeouts: { read: 30s }\n    retries: { attempts: 2, per_try_timeout: 300ms }',
    ),
  );
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) {
    const reply = await get(gw.port, '/echo');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-server'), 'good');
  }
  assert.ok(gw.failures.every((f) => f.type === 'connection_read_timeout'));
  assert.ok(gw.failures.length >= 1);
});

test('retry budget: with every server failing, retries stay within the budget', async (t) => {
  const a = await startSwitchUpstream('a');
  const b = await startSwitchUpstream('b');
  a.status = 503;
  b.status = 503;
  t.after(() => a.close());
  t.after(() => b.close());
  const gw = await startGateway(
    upstreamConfig(
      [a.url, b.url],
      '    retries: { attempts: 2, backoff: { base: 0ms, max: 0ms }, budget: { percent: 10, min_per_second: 0 } }\n    health: { passive: { failures: 1000 } }',
    ),
  );
  t.after(() => gw.close());
  const result = await load(gw.url, { requests: 100, concurrency: 2, path: '/x' });
  assert.equal(result.statuses.length, 100);
  // Each request tried once, plus at most 10% of them a second time.
  assert.ok(a.hits + b.hits <= 110, `${a.hits + b.hits} tries for 100 requests`);
  assert.ok(a.hits + b.hits >= 100);
});
