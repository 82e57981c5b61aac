/**
 * Rolling per-server statistics fed by a real gateway forwarding real requests to real upstreams;
 * the clock is injected so that rates and window expiry are exact.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import type { Failure } from '../../src/diagnose/index.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import { ServerStats, type ServerStatsSnapshot, STATS_BUCKET_MS } from '../../src/observe/stats.js';
import { type Exchange, Gateway } from '../../src/proxy/index.js';
import { simpleConfig } from '../support/gateway.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';
import { rawRequest } from '../support/wire.js';

type T = import('node:test').TestContext;

/** A bucket-aligned start, so that spans are round numbers. */
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % STATS_BUCKET_MS);

interface Harness {
  stats: ServerStats;
  clock: { ms: number };
  get(path: string): Promise<number>;
}

async function harness(t: T, urls: readonly string[], extra = ''): Promise<Harness> {
  const clock = { ms: T0 };
  const stats = new ServerStats({ now: () => clock.ms });
  let done = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const gateway = new Gateway(
    parseConfigText(
      `listen: [{ address: 127.0.0.1:0 }]\nadmin: { address: 127.0.0.1:0 }\n${simpleConfig(urls, extra)}`,
      'stats.yaml',
    ),
    {
      observer: {
        upstreamFailed: (ex: Exchange, failure: Failure) => stats.upstreamFailed(ex, failure),
        exchangeDone: (ex: Exchange) => {
          stats.exchangeDone(ex);
          done++;
          for (const w of waiters.splice(0)) {
            if (done >= w.count) w.resolve();
            else waiters.push(w);
          }
        },
      },
    },
  );
  await gateway.start();
  t.after(() => gateway.stop(0));
  const address = gateway.addresses()[0]!;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  let sent = 0;
  return {
    stats,
    clock,
    async get(path) {
      sent++;
      const expected = sent;
      const reply = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      // The observer runs as the response ends; wait until it has seen this request.
      if (done < expected) await new Promise<void>((resolve) => waiters.push({ count: expected, resolve }));
      return reply.status;
    },
  };
}

function byServer(snapshot: ServerStatsSnapshot[], port: number): ServerStatsSnapshot {
  const found = snapshot.find((s) => s.server === `127.0.0.1:${port}`);
  assert.ok(found, `no statistics for 127.0.0.1:${port} in ${JSON.stringify(snapshot)}`);
  return found;
}

test('requests, 5xx errors and rates per server over real traffic', async (t) => {
  const good = await startSwitchUpstream('good');
  t.after(() => good.close());
  const failing = await startSwitchUpstream('failing');
  t.after(() => failing.close());
  failing.status = 500;
  const h = await harness(t, [good.url, failing.url], '    retries: { attempts: 1 }');
  h.clock.ms = T0 + 10_000;
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push(await h.get(`/r${i}`));
  assert.equal(statuses.filter((s) => s === 200).length, 5, `round robin: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 500).length, 5);

  const snapshot = h.stats.snapshot();
  assert.equal(snapshot.length, 2);
  const ok = byServer(snapshot, good.port);
  const bad = byServer(snapshot, failing.port);
  assert.equal(ok.upstream, 'api');
  assert.equal(ok.url, good.url);
  // 5 requests in the 10 s these statistics have existed.
  assert.equal(ok.requests_per_s, 0.5);
  assert.equal(bad.requests_per_s, 0.5);
  assert.equal(ok.error_ratio, 0);
  assert.equal(bad.error_ratio, 1);
  for (const s of [ok, bad]) {
    assert.ok(s.p50_ms !== null && s.p50_ms > 0, `p50 ${s.p50_ms}`);
    assert.ok(s.p99_ms !== null && s.p99_ms >= s.p50_ms, `p99 ${s.p99_ms} < p50 ${s.p50_ms}`);
  }

  const series = h.stats.upstreamSeries('api');
  assert.equal(series.length, 60);
  const last = series.at(-1)!;
  assert.equal(last.start_ms, T0 + 10_000);
  assert.equal(last.requests, 10);
  assert.equal(last.errors, 5);
  // A 500 from the upstream is an error but not a gateway failure: no root cause.
  assert.deepEqual(last.failures, {});
  assert.ok(series.slice(0, -1).every((p) => p.requests === 0 && p.errors === 0));
  assert.deepEqual(h.stats.upstreamSeries('nope').at(-1)?.requests, 0);
});

test('latency quantiles follow a slow upstream', async (t) => {
  const slow = await startSwitchUpstream('slow');
  t.after(() => slow.close());
  slow.delayMs = 150;
  const h = await harness(t, [slow.url]);
  for (let i = 0; i < 4; i++) assert.equal(await h.get(`/s${i}`), 200);
  const s = byServer(h.stats.snapshot(), slow.port);
  // Every request took at least 150 ms; the histogram reports within about 9 % of the truth.
  assert.ok(s.p50_ms !== null && s.p50_ms >= 150 * 0.9, `p50 ${s.p50_ms}`);
  assert.ok(s.p99_ms !== null && s.p99_ms >= s.p50_ms);
});

test('a try that failed counts against its server even when the retry succeeded', async (t) => {
  const refusing = await startUpstream('refuse');
  t.after(() => refusing.close());
  const good = await startSwitchUpstream('good');
  t.after(() => good.close());
  const h = await harness(t, [refusing.url, good.url], '    retries: { attempts: 2 }');
  h.clock.ms = T0 + 20_000;
  for (let i = 0; i < 6; i++) assert.equal(await h.get(`/x${i}`), 200);
  const snapshot = h.stats.snapshot();
  const bad = byServer(snapshot, refusing.port);
  const ok = byServer(snapshot, good.port);
  assert.equal(ok.error_ratio, 0);
  assert.equal(ok.requests_per_s, 6 / 20);
  assert.equal(bad.error_ratio, 1);
  assert.ok(bad.requests_per_s > 0);
  // Only completed exchanges have latency; the refusing server has none.
  assert.equal(bad.p50_ms, null);
  const last = h.stats.upstreamSeries('api').at(-1)!;
  assert.equal(last.requests, 6);
  assert.equal(last.errors, 0, 'the user saw no error');
  assert.equal(last.failures.backend_down, Math.round(bad.requests_per_s * 20), 'every refused try by its root cause');
});

test('a final failure is one request and one error, not two', async (t) => {
  const refusing = await startUpstream('refuse');
  t.after(() => refusing.close());
  const h = await harness(t, [refusing.url], '    retries: { attempts: 1 }');
  h.clock.ms = T0 + 10_000;
  for (let i = 0; i < 3; i++) assert.equal(await h.get(`/f${i}`), 502);
  const s = byServer(h.stats.snapshot(), refusing.port);
  assert.equal(s.requests_per_s, 0.3);
  assert.equal(s.error_ratio, 1);
  const last = h.stats.upstreamSeries('api').at(-1)!;
  assert.equal(last.requests, 3);
  assert.equal(last.errors, 3);
  assert.deepEqual(last.failures, { backend_down: 3 });
});

test('the window forgets what is older than a minute; the series keeps five minutes', async (t) => {
  const good = await startSwitchUpstream('good');
  t.after(() => good.close());
  const h = await harness(t, [good.url]);
  h.clock.ms = T0 + 120_000;
  for (let i = 0; i < 3; i++) await h.get(`/a${i}`);
  h.clock.ms = T0 + 150_000;
  for (let i = 0; i < 2; i++) await h.get(`/b${i}`);

  // 2.5 s into the bucket at +150 s: the window spans 55 s + 2.5 s.
  let s = byServer(h.stats.snapshot(T0 + 152_500), good.port);
  assert.equal(s.requests_per_s, Math.round((5 / 57.5) * 1000) / 1000);
  // The bucket at +120 s leaves the window at +180 s.
  s = byServer(h.stats.snapshot(T0 + 180_000), good.port);
  assert.equal(s.requests_per_s, Math.round((2 / 55) * 1000) / 1000);
  s = byServer(h.stats.snapshot(T0 + 215_000), good.port);
  assert.equal(s.requests_per_s, 0);
  assert.equal(s.error_ratio, 0);
  assert.equal(s.p50_ms, null);
  assert.equal(s.p99_ms, null);

  const series = h.stats.upstreamSeries('api', T0 + 215_000);
  assert.equal(series.find((p) => p.start_ms === T0 + 120_000)?.requests, 3);
  assert.equal(series.find((p) => p.start_ms === T0 + 150_000)?.requests, 2);
  assert.equal(
    series.reduce((n, p) => n + p.requests, 0),
    5,
  );
  assert.equal(
    h.stats.upstreamSeries('api', T0 + 500_000).reduce((n, p) => n + p.requests, 0),
    0,
  );

  // Quiet for more than five minutes (a server removed by a reload, say): forgotten.
  assert.deepEqual(h.stats.snapshot(T0 + 500_000), []);

  // A slot reused after the window came round starts from zero.
  h.clock.ms = T0 + 120_000 + 60_000 * 5;
  await h.get('/c');
  assert.equal(h.stats.upstreamSeries('api').at(-1)?.requests, 1);
  s = byServer(h.stats.snapshot(), good.port);
  assert.equal(s.requests_per_s, Math.round((1 / 55) * 1000) / 1000);
});

test('the statistics of several processes merge: the same buckets add up, a slot holding an older bucket is left out', async (t) => {
  const backend = await startSwitchUpstream('a');
  t.after(() => backend.close());
  const one = await harness(t, [backend.url]);
  const two = await harness(t, [backend.url]);
  const three = await harness(t, [backend.url]);
  for (let i = 0; i < 3; i++) assert.equal(await one.get('/'), 200);
  backend.status = 503;
  assert.equal(await two.get('/'), 503);
  // A whole window earlier: the same slot as the current bucket, holding an older one.
  three.clock.ms = T0 - 12 * STATS_BUCKET_MS;
  assert.equal(await three.get('/'), 503);
  const dumps = [one.stats.dump(), two.stats.dump(), three.stats.dump()];
  const merged = ServerStats.merged(dumps, { now: () => T0 + 1000 });
  const server = byServer(merged.snapshot(), backend.port);
  assert.equal(server.requests_per_s, 4);
  assert.equal(server.error_ratio, 0.25);
  const last = merged.upstreamSeries('api', T0 + 1000).at(-1)!;
  assert.deepEqual([last.requests, last.errors], [4, 1]);
});
