/**
 * A real HTTP receiver for notifications: records every POST (path, headers, JSON body) and answers
 * the statuses a test queues (then 200).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** The status this request was answered with. */
  status: number;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Statuses for the next requests, in order; 200 once they run out. */
  readonly answers: number[];
}

export async function startReceiver(t: TestContext): Promise<Receiver> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text: the test sees what arrived
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.after(() => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, answers };
}
