/** A bare connect() to a server, timed and classified like a failure on the request path. */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { classify } from '../../classify.js';
import { UpstreamError } from '../../errors.js';
import type { Failure } from '../../failure.js';
import { type Endpoint, endpointText } from './endpoint.js';

export interface ConnectResult {
  ok: boolean;
  ms: number;
  /** Why it failed, in the taxonomy's terms. */
  failure?: Failure;
}

export function connectProbe(endpoint: Endpoint, timeoutMs: number, upstream: string): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket =
      endpoint.kind === 'unix'
        ? net.connect({ path: endpoint.path })
        : net.connect({ host: endpoint.address, port: endpoint.port });
    let settled = false;
    const finish = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const ms = performance.now() - started;
      if (error === undefined) {
        resolve({ ok: true, ms });
        return;
      }
      const failure = classify(error, {
        phase: 'connect',
        upstream,
        server: endpointText(endpoint),
        attempt: 0,
        reused: false,
        connectMs: -1,
        unixPath: endpoint.kind === 'unix',
      });
      resolve({ ok: false, ms, failure });
    };
    const timer = setTimeout(
      () => finish(new UpstreamError('GW_CONNECT_TIMEOUT', undefined, { timeoutMs })),
      timeoutMs,
    );
    socket.once('connect', () => finish(undefined));
    socket.once('error', (error) => finish(error));
  });
}
