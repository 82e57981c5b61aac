/**
 * Prometheus metrics from real traffic on loopback: a gateway in front of a good and a refusing
 * backend, scraped through `render()`, with the exposition text parsed and its values checked.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { parseConfigText } from '../../src/config/index.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import { EventBus } from '../../src/observe/events.js';
import { CellCounter, CellHistogram } from '../../src/observe/metrics/cells.js';
import { Metrics, REQUEST_BUCKETS_SECONDS } from '../../src/observe/metrics.js';
import { Gateway } from '../../src/proxy/index.js';
import { delay } from '../support/load.js';
import { get } from '../support/raw-client.js';
import { startSwitchUpstream } from '../support/switch-upstream.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (one sample a line; HELP/TYPE comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one series with exactly these labels, or undefined when it is not exposed. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  const found = samples.filter(
    (s) =>
      s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(found.length <= 1, `${found.length} series for ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await metrics.render());
}

/** Scrapes every 20 ms until `check` holds, for at most 5 s. */
async function eventually(metrics: Metrics, check: (s: Sample[]) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check(await scrape(metrics))) return;
    await delay(20);
  }
  assert.fail(`timed out waiting for: ${what}`);
}

async function startMetricsGateway(yaml: string): Promise<{ gateway: Gateway; port: number; metrics: Metrics }> {
  const metrics = new Metrics();
  const config = parseConfigText(`listen: [{ address: 127.0.0.1:0 }]\n${yaml}`, 'test.yaml');
  const gateway = new Gateway(config, { observer: metrics });
  metrics.attach(gateway.events);
  metrics.collectFrom(() => gateway);
  await gateway.start();
  const address = gateway.addresses()[0]!;
  return { gateway, port: Number(address.slice(address.lastIndexOf(':') + 1)), metrics };
}

function okOnly(url: string): string {
  return `upstreams:
  app:
    servers:
      - url: ${url}
routes:
  - match: { path: /ok }
    upstream: app
`;
}

test('requests, latencies, failures, retries, ejection and live gauges from real traffic', async (t) => {
  const ok = await startSwitchUpstream('ok');
  t.after(() => ok.close());
  const refuse = await startUpstream('refuse');
  t.after(() => refuse.close());
  const refuse2 = await startUpstream('refuse');
  t.after(() => refuse2.close());
  const { gateway, port, metrics } = await startMetricsGateway(`upstreams:
  app:
    servers:
      - url: ${ok.url}
  down:
    servers:
      - url: ${refuse.url}
    retries: { attempts: 1 }
    health: { passive: { failures: 2, eject_for: 30s, max_ejected_percent: 100 }, panic_threshold: 0% }
  mixed:
    balance: round_robin
    servers:
      - url: ${refuse2.url}
      - url: ${ok.url}
    retries: { attempts: 2, backoff: { base: 0ms, max: 0ms } }
    health: { passive: { failures: 1000 } }
routes:
  - match: { path: /ok }
    upstream: app
  - match: { path: /down }
    upstream: down
  - match: { path: /mixed }
    upstream: mixed
`);
  t.after(() => gateway.stop(0));

  const okRequests = 6;
  const downRequests = 5;
  const mixedRequests = 4;
  for (let i = 0; i < okRequests; i++) assert.equal((await get(port, '/ok')).status, 200);
  for (let i = 0; i < downRequests; i++) assert.ok((await get(port, '/down')).status >= 500);
  for (let i = 0; i < mixedRequests; i++) assert.equal((await get(port, '/mixed')).status, 200);
  const unrouted = await get(port, '/nowhere');
  assert.equal(unrouted.status, 404);

  const s = await scrape(metrics);
  const okRoute = { route: '#0 /ok', upstream: 'app' };
  const downRoute = { route: '#1 /down', upstream: 'down' };
  const mixedRoute = { route: '#2 /mixed', upstream: 'mixed' };

  assert.equal(value(s, 'gatewise_requests_total', { ...okRoute, code_class: '2xx' }), okRequests);
  assert.equal(value(s, 'gatewise_requests_total', { ...okRoute, code_class: '5xx' }), undefined);
  assert.equal(value(s, 'gatewise_requests_total', { ...downRoute, code_class: '5xx' }), downRequests);
  assert.equal(value(s, 'gatewise_requests_total', { ...mixedRoute, code_class: '2xx' }), mixedRequests);
  // A request no route matched: empty route and upstream labels, never its path.
  assert.equal(value(s, 'gatewise_requests_total', { route: '', upstream: '', code_class: '4xx' }), 1);
  assert.equal(
    s.some((x) => Object.values(x.labels).some((v) => v.includes('nowhere'))),
    false,
  );

  // Histogram counts agree with the requests, and the +Inf bucket with the count.
  assert.equal(value(s, 'gatewise_request_duration_seconds_count', okRoute), okRequests);
  assert.equal(value(s, 'gatewise_request_duration_seconds_bucket', { ...okRoute, le: '+Inf' }), okRequests);
  assert.equal(value(s, 'gatewise_request_duration_seconds_count', downRoute), downRequests);
  const sum = value(s, 'gatewise_request_duration_seconds_sum', okRoute)!;
  assert.ok(sum > 0 && sum < 30 * okRequests, `duration sum ${sum} s is in seconds`);
  assert.equal(value(s, 'gatewise_upstream_response_head_duration_seconds_count', { upstream: 'app' }), okRequests);
  const connects = value(s, 'gatewise_upstream_connect_duration_seconds_count', { upstream: 'app' })!;
  // Sequential requests reuse the kept-alive upstream connection; a reuse is not a connect.
  assert.ok(connects >= 1 && connects < okRequests, `${connects} connects for ${okRequests} requests`);

  // The refusing upstream: two refused tries eject its only server; later requests are not tried.
  assert.equal(
    value(s, 'gatewise_upstream_failures_total', {
      upstream: 'down',
      error_type: 'connection_refused',
      cause: 'backend_down',
    }),
    2,
  );
  assert.equal(value(s, 'gatewise_server_ejections_total', { upstream: 'down' }), 1);
  assert.equal(value(s, 'gatewise_server_available', { upstream: 'down', server: refuse.url.slice(7) }), 0);
  assert.equal(value(s, 'gatewise_server_available', { upstream: 'app', server: ok.url.slice(7) }), 1);
  assert.equal(value(s, 'gatewise_retries_total', { upstream: 'down' }), undefined);

  // Every refused try on `mixed` was retried on the good server: retries equal its failures.
  const mixedFailures = value(s, 'gatewise_upstream_failures_total', {
    upstream: 'mixed',
    error_type: 'connection_refused',
    cause: 'backend_down',
  });
  assert.ok(mixedFailures !== undefined && mixedFailures >= 1, `mixed failures ${mixedFailures}`);
  assert.equal(value(s, 'gatewise_retries_total', { upstream: 'mixed' }), mixedFailures);

  // Live state: nothing in flight or queued, no panic, connections accounted as idle or busy.
  for (const upstream of ['app', 'down', 'mixed']) {
    assert.equal(value(s, 'gatewise_upstream_inflight', { upstream }), 0, upstream);
    assert.equal(value(s, 'gatewise_upstream_queue_depth', { upstream }), 0, upstream);
    assert.equal(value(s, 'gatewise_upstream_panic', { upstream }), 0, upstream);
  }
  const okServer = { upstream: 'app', server: ok.url.slice(7) };
  assert.equal(value(s, 'gatewise_server_healthy', okServer), 1);
  assert.equal(value(s, 'gatewise_server_connections', { ...okServer, state: 'busy' }), 0);
  const idle = value(s, 'gatewise_server_connections', { ...okServer, state: 'idle' })!;
  assert.ok(idle >= 1, `${idle} idle connections kept for reuse`);

  // Process metrics come with the prefix, from this registry.
  assert.ok(s.some((x) => x.name === 'gatewise_process_cpu_user_seconds_total'));
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  // A reload compiles new route objects: the same route keeps counting in the same series, and the
  // gauges follow the new runtime (a removed upstream's series are gone).
  await gateway.reload(parseConfigText(`listen: [{ address: 127.0.0.1:0 }]\n${okOnly(ok.url)}`, 'test.yaml'));
  metrics.recordReload(true);
  assert.equal((await get(port, '/ok')).status, 200);
  const r = await scrape(metrics);
  assert.equal(value(r, 'gatewise_requests_total', { ...okRoute, code_class: '2xx' }), okRequests + 1);
  assert.equal(value(r, 'gatewise_request_duration_seconds_count', okRoute), okRequests + 1);
  assert.equal(value(r, 'gatewise_upstream_inflight', { upstream: 'down' }), undefined);
  assert.equal(value(r, 'gatewise_upstream_inflight', { upstream: 'app' }), 0);
  assert.equal(value(r, 'gatewise_config_reloads_total', { result: 'ok' }), 1);
  // Counters are never reset by a reload.
  assert.equal(value(r, 'gatewise_requests_total', { ...downRoute, code_class: '5xx' }), downRequests);
});

test('a client that goes away is counted as an abort, not as a response', async (t) => {
  const hang = await startUpstream('hang');
  t.after(() => hang.close());
  const { gateway, port, metrics } = await startMetricsGateway(`upstreams:
  slow:
    servers:
      - url: ${hang.url}
routes:
  - match: { path: / }
    upstream: slow
`);
  t.after(() => gateway.stop(0));
  const client = net.connect(port, '127.0.0.1');
  t.after(() => client.destroy());
  client.write('GET /wait HTTP/1.1\r\nHost: test.local\r\n\r\n');
  await eventually(metrics, (s) => value(s, 'gatewise_upstream_inflight', { upstream: 'slow' }) === 1, 'in flight');
  client.destroy();
  await eventually(
    metrics,
    (s) =>
      value(s, 'gatewise_client_aborts_total', { route: '#0 /' }) === 1 &&
      value(s, 'gatewise_upstream_inflight', { upstream: 'slow' }) === 0,
    'the abort counted and nothing left in flight',
  );
  const s = await scrape(metrics);
  // Not a response of any class, and never held against the upstream.
  assert.equal(
    s.some((x) => x.name === 'gatewise_requests_total'),
    false,
  );
  assert.equal(
    s.some((x) => x.name === 'gatewise_upstream_failures_total'),
    false,
  );
  assert.equal(value(s, 'gatewise_request_duration_seconds_count', { route: '#0 /', upstream: 'slow' }), undefined);
});

test('transitions from the event bus and reloads are counted; registries are separate', async () => {
  const metrics = new Metrics({ processMetrics: false });
  const other = new Metrics({ processMetrics: false });
  const bus = new EventBus();
  const detach = metrics.attach(bus);
  bus.emit({ kind: 'health', upstream: 'api', server: '127.0.0.1:1', from: 'healthy', to: 'unhealthy', reason: 'x' });
  bus.emit({ kind: 'health', upstream: 'api', server: '127.0.0.1:1', from: 'unhealthy', to: 'healthy', reason: 'x' });
  bus.emit({
    kind: 'breaker',
    upstream: 'api',
    server: '127.0.0.1:1',
    atMs: 0,
    from: 'closed',
    to: 'open',
    reason: 'failure_ratio',
  });
  bus.emit({ kind: 'dns', upstream: 'api', host: 'app.internal', addresses: [], error: 'ENOTFOUND' });
  bus.emit({ kind: 'dns', upstream: 'api', host: 'app.internal', addresses: ['10.0.0.1'] });
  metrics.recordReload(true);
  metrics.recordReload(false);
  metrics.recordReload(false);
  detach();
  bus.emit({ kind: 'health', upstream: 'api', server: '127.0.0.1:1', from: 'healthy', to: 'unhealthy', reason: 'x' });

  const s = await scrape(metrics);
  assert.equal(value(s, 'gatewise_health_transitions_total', { upstream: 'api', to: 'unhealthy' }), 1);
  assert.equal(value(s, 'gatewise_health_transitions_total', { upstream: 'api', to: 'healthy' }), 1);
  assert.equal(value(s, 'gatewise_breaker_transitions_total', { upstream: 'api', to: 'open' }), 1);
  assert.equal(value(s, 'gatewise_dns_failures_total', { upstream: 'api' }), 1);
  assert.equal(value(s, 'gatewise_config_reloads_total', { result: 'ok' }), 1);
  assert.equal(value(s, 'gatewise_config_reloads_total', { result: 'refused' }), 2);
  // No gateway to read: live gauges are declared but carry no series.
  assert.equal(
    s.some((x) => x.name === 'gatewise_server_available'),
    false,
  );
  const o = await scrape(other);
  assert.equal(value(o, 'gatewise_config_reloads_total', { result: 'refused' }), 0);
  assert.equal(value(o, 'gatewise_health_transitions_total', { upstream: 'api', to: 'unhealthy' }), undefined);
});

/** Samples sorted by name and labels, for comparing two expositions whatever their label order. */
function canonical(samples: Sample[]): string[] {
  return samples.map((x) => `${x.name}${JSON.stringify(Object.entries(x.labels).sort())} ${x.value}`).sort();
}

test('cell histograms and counters expose exactly what prom-client would', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const buckets = [...REQUEST_BUCKETS_SECONDS];
  const cellHistogram = new CellHistogram({
    name: 'h_seconds',
    help: 'h',
    labelNames: ['route'],
    buckets,
    registers: [ours],
  });
  const histogram = new Histogram({
    name: 'h_seconds',
    help: 'h',
    labelNames: ['route'],
    buckets,
    registers: [theirs],
  });
  const cellCounter = new CellCounter({ name: 'c_total', help: 'c', labelNames: ['route'], registers: [ours] });
  const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['route'], registers: [theirs] });
  const cells = { a: cellHistogram.cell({ route: 'a' }), b: cellHistogram.cell({ route: 'b' }) };
  const counts = { a: cellCounter.cell({ route: 'a' }), b: cellCounter.cell({ route: 'b' }) };
  // Bounds themselves (le is inclusive), between them, below the first and above the last.
  const values = [0, 0.0005, 0.001, 0.0011, 0.0025, 0.07, 1, 2.5, 29.9, 30, 31, 1000];
  const compare = async () => {
    const a = canonical(parseExposition(await ours.metrics()));
    const b = canonical(parseExposition(await theirs.metrics()));
    assert.deepEqual(a, b);
    return a.length;
  };
  for (const [i, v] of values.entries()) {
    const route = i % 3 === 0 ? 'b' : 'a';
    cells[route].observe(v);
    histogram.observe({ route }, v);
    counts[route].count++;
    counter.inc({ route });
    // Scrapes in between: a counter hands over only what is new since the last one.
    if (i % 4 === 0) await compare();
  }
  const lines = await compare();
  assert.equal(lines, 2 * (buckets.length + 3) + 2);
  const text = await ours.metrics();
  assert.match(text, /^# TYPE h_seconds histogram$/m);
  assert.match(text, /^# TYPE c_total counter$/m);
});
