import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { ActiveHealthChecker } from '../../src/resilience/active-health.js';
import {
  check,
  firstResult,
  healthConfig,
  healthServer,
  targetOf,
  tcpTarget,
  upstream,
  waitFor,
} from './active-health-support.js';

test('an ok upstream passes GET /health and stays healthy', async (t) => {
  const ok = await upstream(t, 'ok');
  const { checker, transitions } = check(t, [targetOf(ok)], healthConfig());
  assert.equal(await firstResult(checker), 'GET /health answered 200');
  const [server] = checker.snapshot();
  assert.equal(server!.server, `127.0.0.1:${ok.port}`);
  assert.equal(server!.state, 'healthy');
  assert.ok(server!.consecutiveOk >= 1);
  assert.equal(server!.consecutiveFail, 0);
  assert.ok(server!.lastProbeAt > 0);
  assert.ok(server!.lastLatencyMs >= 0);
  assert.deepEqual(transitions, []);
});

test('a refused port fails with the classifier wording and turns the server unhealthy', async (t) => {
  const refused = await upstream(t, 'refuse');
  const { checker, transitions } = check(t, [targetOf(refused)], healthConfig());
  await waitFor('the server to go unhealthy', () => transitions.length === 1);
  const [transition] = transitions;
  assert.equal(transition!.upstream, 'api');
  assert.equal(transition!.server, `127.0.0.1:${refused.port}`);
  assert.equal(transition!.index, 0);
  assert.equal(transition!.from, 'healthy');
  assert.equal(transition!.to, 'unhealthy');
  assert.equal(
    transition!.reason,
    `GET /health failed: connect() to 127.0.0.1:${refused.port} failed (ECONNREFUSED: connection refused) while connecting to upstream (1 consecutive failed check)`,
  );
  assert.equal(checker.state(0), 'unhealthy');
});

test('a /health that switches between 200 and 503 flips the server both ways, with reasons', async (t) => {
  const health = await healthServer(t);
  const { checker, transitions } = check(t, [tcpTarget(health.port)], healthConfig());
  await firstResult(checker);
  health.status = 503;
  await waitFor('unhealthy', () => transitions.length === 1);
  assert.equal(transitions[0]!.reason, 'GET /health answered 503 (expected 200-399) (1 consecutive failed check)');
  assert.equal(checker.state(0), 'unhealthy');
  health.status = 204;
  health.body = '';
  await waitFor('healthy again', () => transitions.length === 2);
  assert.equal(transitions[1]!.from, 'unhealthy');
  assert.equal(transitions[1]!.to, 'healthy');
  assert.equal(transitions[1]!.reason, 'GET /health answered 204 (1 consecutive passed check)');
  assert.ok(transitions[1]!.at >= transitions[0]!.at);
});

test('exactly unhealthy_after consecutive failures take a server out, and a pass in between resets the count', async (t) => {
  const health = await healthServer(t, 503, 'down');
  const { checker, transitions, atTransition } = check(
    t,
    [tcpTarget(health.port)],
    healthConfig({ unhealthy_after: 3 }),
  );
  // While fewer than three failures are counted the server stays in.
  const seen: Array<[number, string]> = [];
  await waitFor('the flip', () => {
    const [server] = checker.snapshot();
    seen.push([server!.consecutiveFail, server!.state]);
    return transitions.length === 1;
  });
  for (const [failures, state] of seen) if (failures < 3) assert.equal(state, 'healthy', `after ${failures} failures`);
  assert.equal(atTransition[0]![0]!.consecutiveFail, 3);
  assert.match(transitions[0]!.reason, /\(3 consecutive failed checks\)$/);
  assert.equal(health.requests.length >= 3, true);
});

test('a pass between failures restarts the count towards unhealthy_after', async (t) => {
  const health = await healthServer(t, 503, 'down');
  const { checker, transitions } = check(t, [tcpTarget(health.port)], healthConfig({ unhealthy_after: 3 }));
  await waitFor('two failures', () => checker.snapshot()[0]!.consecutiveFail === 2);
  health.status = 200;
  await waitFor('a pass', () => checker.snapshot()[0]!.consecutiveOk >= 1);
  assert.equal(checker.snapshot()[0]!.consecutiveFail, 0);
  health.status = 503;
  await waitFor('the flip', () => transitions.length === 1);
  assert.match(transitions[0]!.reason, /\(3 consecutive failed checks\)$/);
});

test('initial: unhealthy holds before any probe and exactly healthy_after passes bring the server in', async (t) => {
  const ok = await upstream(t, 'ok');
  const { checker, transitions, atTransition } = check(
    t,
    [targetOf(ok)],
    healthConfig({ initial: 'unhealthy', healthy_after: 2, interval: 50 }),
  );
  assert.equal(checker.state(0), 'unhealthy');
  const [before] = checker.snapshot();
  assert.deepEqual(before, {
    server: `127.0.0.1:${ok.port}`,
    state: 'unhealthy',
    consecutiveOk: 0,
    consecutiveFail: 0,
    lastProbeAt: 0,
    lastResult: '',
    lastLatencyMs: -1,
  });
  await waitFor('healthy', () => transitions.length === 1);
  assert.equal(transitions[0]!.from, 'unhealthy');
  assert.equal(transitions[0]!.to, 'healthy');
  assert.equal(transitions[0]!.reason, 'GET /health answered 200 (2 consecutive passed checks)');
  assert.equal(atTransition[0]![0]!.consecutiveOk, 2);
});

test('initial: healthy never emits a transition for passing probes', async (t) => {
  const health = await healthServer(t);
  const { transitions } = check(t, [tcpTarget(health.port)], healthConfig());
  await waitFor('three probes', () => health.requests.length >= 3);
  assert.deepEqual(transitions, []);
});

test('expect_status ranges decide what passes', async (t) => {
  const health = await healthServer(t, 302, '');
  const config = healthConfig({
    expect_status: [
      { min: 200, max: 200 },
      { min: 204, max: 204 },
    ],
  });
  const { checker } = check(t, [tcpTarget(health.port)], config);
  assert.equal(await firstResult(checker), 'GET /health answered 302 (expected 200, 204)');
});

test('expect_body: the body must contain the text', async (t) => {
  const passing = await healthServer(t, 200, 'status: ok, db: ok');
  const failing = await healthServer(t, 200, 'status: starting');
  const { checker } = check(t, [tcpTarget(passing.port), tcpTarget(failing.port)], healthConfig({ expect_body: 'ok' }));
  assert.equal(await firstResult(checker, 0), 'GET /health answered 200');
  assert.equal(await firstResult(checker, 1), 'GET /health answered 200 but the body does not contain "ok"');
});

test('expect_body only looks at the first 64 KiB', async (t) => {
  const health = await healthServer(t, 200, `${'a'.repeat(70 * 1024)}ok`);
  const { checker } = check(t, [tcpTarget(health.port)], healthConfig({ expect_body: 'ok' }));
  assert.equal(
    await firstResult(checker),
    'GET /health answered 200 but the body does not contain "ok" in its first 64 KiB',
  );
});

test('expect_json compares the value at a dotted path, stringified', async (t) => {
  const document = JSON.stringify({ status: 'up', checks: { db: { ok: true, latency: 3 } }, items: ['a', 'b'] });
  const cases: Array<[{ path: string; equals: string }, string]> = [
    [{ path: 'status', equals: 'up' }, 'GET /health answered 200'],
    [{ path: '$.checks.db.ok', equals: 'true' }, 'GET /health answered 200'],
    [{ path: 'checks.db.latency', equals: '3' }, 'GET /health answered 200'],
    [{ path: 'items.1', equals: 'b' }, 'GET /health answered 200'],
    [{ path: 'status', equals: 'down' }, 'GET /health answered 200 but JSON "status" is "up" (expected "down")'],
    [{ path: 'checks.cache', equals: 'up' }, 'GET /health answered 200 but the JSON body has no "checks.cache"'],
    [
      { path: 'checks.db', equals: 'up' },
      'GET /health answered 200 but JSON "checks.db" is "{\\"ok\\":true,\\"latency\\":3}" (expected "up")',
    ],
  ];
  for (const [expectJson, expected] of cases) {
    const health = await healthServer(t, 200, document);
    health.contentType = 'application/json';
    const { checker } = check(t, [tcpTarget(health.port)], healthConfig({ expect_json: expectJson }));
    assert.equal(await firstResult(checker), expected, `expect_json ${JSON.stringify(expectJson)}`);
    await checker.stop();
  }
});

test('expect_json on a body that is not JSON, or too large to read', async (t) => {
  const text = await healthServer(t, 200, 'OK');
  const huge = await healthServer(t, 200, JSON.stringify({ status: 'up', pad: 'x'.repeat(70 * 1024) }));
  const config = healthConfig({ expect_json: { path: 'status', equals: 'up' } });
  const { checker } = check(t, [tcpTarget(text.port), tcpTarget(huge.port)], config);
  assert.match(await firstResult(checker, 0), /^GET \/health answered 200 but the body is not JSON \(.+\)$/);
  assert.equal(
    await firstResult(checker, 1),
    'GET /health answered 200 but the body is larger than 64 KiB, too large to read as JSON',
  );
});

test('method, path, headers and the Host header are sent as configured', async (t) => {
  const health = await healthServer(t);
  const config = healthConfig({ method: 'HEAD', path: '/ready?full=1', headers: { 'x-probe': 'gatewise' } });
  const withHost = await healthServer(t);
  const { checker } = check(
    t,
    [tcpTarget(health.port), tcpTarget(withHost.port, { hostHeader: 'api.example.com' })],
    config,
  );
  assert.equal(await firstResult(checker, 0), 'HEAD /ready?full=1 answered 200');
  await firstResult(checker, 1);
  const [request] = health.requests;
  assert.equal(request!.method, 'HEAD');
  assert.equal(request!.url, '/ready?full=1');
  assert.equal(request!.headers['x-probe'], 'gatewise');
  assert.equal(request!.headers.host, `127.0.0.1:${health.port}`);
  // Each probe opens its own connection rather than keeping one alive.
  assert.equal(request!.headers.connection, 'close');
  assert.equal(withHost.requests[0]!.headers.host, 'api.example.com');
});

test('a Host header written for the check replaces the default one', async (t) => {
  const health = await healthServer(t);
  const config = healthConfig({ headers: { Host: 'health.internal' } });
  const { checker } = check(t, [tcpTarget(health.port, { hostHeader: 'api.example.com' })], config);
  await firstResult(checker);
  const raw = health.requests[0]!.rawHeaders;
  const hosts = raw.filter((_value, index) => index % 2 === 1 && raw[index - 1]!.toLowerCase() === 'host');
  assert.deepEqual(hosts, ['health.internal']);
});

test('many servers probed at once share the cancel signal without a listener-leak warning', async (t) => {
  const health = await healthServer(t);
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const targets = Array.from({ length: 15 }, () => tcpTarget(health.port));
  const { checker } = check(t, targets, healthConfig({ interval: 200 }));
  await Promise.all(targets.map((_target, index) => firstResult(checker, index)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning'),
    [],
  );
});

test('port: probes a management port instead of the server port', async (t) => {
  const refused = await upstream(t, 'refuse');
  const health = await healthServer(t);
  const { checker } = check(t, [targetOf(refused)], healthConfig({ port: health.port }));
  assert.equal(await firstResult(checker), `GET /health on port ${health.port} answered 200`);
  const tcp = check(t, [targetOf(refused)], healthConfig({ type: 'tcp', port: health.port }));
  assert.equal(await firstResult(tcp.checker), `TCP connect to 127.0.0.1:${health.port} succeeded`);
});

test('several servers are tracked apart, by index and name', async (t) => {
  const ok = await upstream(t, 'ok');
  const refused = await upstream(t, 'refuse');
  const { checker, transitions } = check(t, [targetOf(ok), targetOf(refused)], healthConfig());
  await waitFor('the refused server out', () => transitions.length === 1);
  assert.equal(transitions[0]!.index, 1);
  assert.equal(checker.state(0), 'healthy');
  assert.equal(checker.state(1), 'unhealthy');
  assert.deepEqual(
    checker.snapshot().map((server) => [server.server, server.state]),
    [
      [`127.0.0.1:${ok.port}`, 'healthy'],
      [`127.0.0.1:${refused.port}`, 'unhealthy'],
    ],
  );
  assert.throws(() => checker.state(2), RangeError);
});

test('probes of one server never overlap and wait at least the interval between them', async (t) => {
  const health = await healthServer(t);
  check(t, [tcpTarget(health.port)], healthConfig({ interval: 100 }));
  await waitFor('four probes', () => health.requests.length >= 4);
  for (let i = 1; i < 4; i++) {
    const gapMs = health.requests[i]!.at - health.requests[i - 1]!.at;
    // Timers fire no earlier than asked (give or take the clock's 1 ms rounding).
    assert.ok(gapMs >= 98, `gap ${gapMs} ms`);
  }
});

test('jitter: the first probe waits up to interval × jitter, later ones interval × (1 ± jitter)', async (t) => {
  const health = await healthServer(t);
  const startedAt = Date.now();
  // random() close to 1: the longest waits, interval × 0.5 first, then interval × 1.5.
  check(t, [tcpTarget(health.port)], healthConfig({ interval: 200, jitter: 0.5 }), { random: () => 0.999 });
  await waitFor('two probes', () => health.requests.length >= 2);
  assert.ok(health.requests[0]!.at - startedAt >= 98, `first after ${health.requests[0]!.at - startedAt} ms`);
  const gapMs = health.requests[1]!.at - health.requests[0]!.at;
  assert.ok(gapMs >= 298, `gap ${gapMs} ms`);
});

test('stop() cancels a probe in flight, emits nothing more and leaves no socket or timer behind', async (t) => {
  const hang = await upstream(t, 'hang');
  const health = await healthServer(t);
  await new Promise((resolve) => setImmediate(resolve));
  const before = resourceCounts();
  const transitions: unknown[] = [];
  const checker = new ActiveHealthChecker(
    'api',
    [targetOf(hang), tcpTarget(health.port)],
    healthConfig({ timeout: 60_000 }),
    (transition) => transitions.push(transition),
  );
  checker.start();
  await waitFor('the hanging probe to be sent', () => hang.requests >= 1 && health.requests.length >= 1);
  await checker.stop();
  await waitFor('every probe socket to close', () => sameCounts(before, resourceCounts()), 2000).catch(() => {
    assert.deepEqual(resourceCounts(), before);
  });
  assert.deepEqual(transitions, []);
  const requests = health.requests.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(health.requests.length, requests, 'no probe after stop()');
  assert.throws(() => checker.start(), { code: 'GW_HEALTH_STOPPED' });
});

test('a listener that throws surfaces as an uncaught exception, not a silent loss', async (t) => {
  const refused = await upstream(t, 'refuse');
  const module = new URL('../../src/resilience/active-health.js', import.meta.url).href;
  const script = `
    import { ActiveHealthChecker } from ${JSON.stringify(module)};
    const config = ${JSON.stringify(healthConfig())};
    const target = ${JSON.stringify(targetOf(refused))};
    const checker = new ActiveHealthChecker('api', [target], config, () => { throw new Error('listener bug'); });
    checker.start();
    setTimeout(() => process.exit(0), 5000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill());
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.notEqual(code, 0);
  assert.match(stderr, /Error: listener bug/);
});

test('a configuration with no interval is refused', () => {
  assert.throws(() => new ActiveHealthChecker('api', [], healthConfig({ interval: 0 }), () => {}), {
    code: 'GW_HEALTH_CONFIG',
  });
});

/** The kinds of handle a probe can open: sockets, pending connects and timers. */
const PROBE_RESOURCES = new Set(['TCPSocketWrap', 'TCPConnectWrap', 'TLSWrap', 'PipeConnectWrap', 'Timeout']);

/** Open probe-kind handles of this process, by kind. */
function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (PROBE_RESOURCES.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const kinds = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const kind of kinds) if ((a[kind] ?? 0) !== (b[kind] ?? 0)) return false;
  return true;
}
