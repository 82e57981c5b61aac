/**
 * A real HTTP backend whose behaviour a test switches at run time: `/health` answers 200 or 503,
 * any other path answers with `status` (200 by default), and every request is counted.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SwitchUpstream {
  readonly url: string;
  readonly port: number;
  /** Requests to paths other than /health. */
  readonly hits: number;
  /** Requests to /health (health checks). */
  readonly probes: number;
  healthy: boolean;
  status: number;
  /** Milliseconds to wait before answering (0 = at once). */
  delayMs: number;
  close(): Promise<void>;
}

export async function startSwitchUpstream(name: string): Promise<SwitchUpstream> {
  const state = { hits: 0, probes: 0, healthy: true, status: 200, delayMs: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/health') {
      state.probes++;
      res.writeHead(state.healthy ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(state.healthy ? 'ok' : 'down');
      return;
    }
    state.hits++;
    const answer = () => {
      res.writeHead(state.status, { 'content-type': 'text/plain', 'x-server': name });
      res.end(`${name}\n`);
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get hits() {
      return state.hits;
    },
    get probes() {
      return state.probes;
    },
    get healthy() {
      return state.healthy;
    },
    set healthy(v: boolean) {
      state.healthy = v;
    },
    get status() {
      return state.status;
    },
    set status(v: number) {
      state.status = v;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
