import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { StartedUpstream } from '../../src/drill/upstreams.js';
import { startUpstream } from '../../src/drill/upstreams.js';
import {
  ActiveHealthChecker,
  type ActiveHealthConfig,
  type ActiveHealthOptions,
  type HealthTransition,
  type ProbeTarget,
} from '../../src/resilience/active-health.js';

/** A quick config: probes every 30 ms, no jitter, flips on one result. */
export function healthConfig(overrides: Partial<ActiveHealthConfig> = {}): ActiveHealthConfig {
  return {
    type: 'http',
    path: '/health',
    method: 'GET',
    headers: {},
    expect_status: [],
    expect_body: '',
    interval: 30,
    jitter: 0,
    timeout: 1000,
    healthy_after: 1,
    unhealthy_after: 1,
    initial: 'healthy',
    port: 0,
    ...overrides,
  };
}

export function tcpTarget(port: number, overrides: Partial<ProbeTarget> = {}): ProbeTarget {
  return { name: `127.0.0.1:${port}`, kind: 'http', host: '127.0.0.1', port, socketPath: '', ...overrides };
}

export function targetOf(upstream: StartedUpstream, overrides: Partial<ProbeTarget> = {}): ProbeTarget {
  if (upstream.socketPath !== undefined) {
    return { name: upstream.url, kind: 'unix', host: '', port: 0, socketPath: upstream.socketPath, ...overrides };
  }
  const kind = upstream.url.startsWith('https:') ? 'https' : 'http';
  return { ...tcpTarget(upstream.port), kind, ...overrides };
}

export async function upstream(t: TestContext, ...args: Parameters<typeof startUpstream>): Promise<StartedUpstream> {
  const started = await startUpstream(...args);
  t.after(() => started.close());
  return started;
}

export interface Checked {
  checker: ActiveHealthChecker;
  transitions: HealthTransition[];
  /** Snapshot of the server taken inside each transition callback. */
  atTransition: ReturnType<ActiveHealthChecker['snapshot']>[];
}

/** Starts a checker that is stopped when the test ends, recording every transition. */
export function check(
  t: TestContext,
  targets: ProbeTarget[],
  config: ActiveHealthConfig,
  options?: ActiveHealthOptions,
): Checked {
  const transitions: HealthTransition[] = [];
  const atTransition: Checked['atTransition'] = [];
  const checker: ActiveHealthChecker = new ActiveHealthChecker(
    'api',
    targets,
    config,
    (transition) => {
      transitions.push(transition);
      atTransition.push(checker.snapshot());
    },
    options,
  );
  t.after(() => checker.stop());
  checker.start();
  return { checker, transitions, atTransition };
}

/** Polls until `predicate` holds; fails the test after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The reason of the first probe of server `index`. */
export async function firstResult(checker: ActiveHealthChecker, index = 0): Promise<string> {
  await waitFor('a probe result', () => checker.snapshot()[index]!.lastResult !== '');
  return checker.snapshot()[index]!.lastResult;
}

/** An HTTP server whose /health answer the test switches, recording what each request carried. */
export interface HealthServer {
  port: number;
  status: number;
  body: string;
  contentType: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[]; at: number }>;
}

export async function healthServer(t: TestContext, status = 200, body = 'ok'): Promise<HealthServer> {
  const state: HealthServer = { port: 0, status, body, contentType: 'text/plain', requests: [] };
  const server = http.createServer((request, response) => {
    state.requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      rawHeaders: request.rawHeaders,
      at: Date.now(),
    });
    request.resume();
    request.on('end', () => {
      response.writeHead(state.status, {
        'content-type': state.contentType,
        'content-length': Buffer.byteLength(state.body),
      });
      response.end(request.method === 'HEAD' ? undefined : state.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  });
  state.port = (server.address() as AddressInfo).port;
  return state;
}
