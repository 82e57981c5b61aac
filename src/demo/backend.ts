/**
 * The demo's backend: a small app the built-in demo runs twice as child processes, with routes that
 * make each kind of upstream trouble happen on demand.
 *
 *   node dist/src/demo/backend.js --port 5001 --name a [--host 127.0.0.1]   (or PORT and HOST set)
 *
 *   /              a JSON hello naming the instance, the time and the pid
 *   /health        200 ok
 *   /slow?ms=3000  answers after ms milliseconds (at most 120 s)
 *   /crash         the process exits in the middle of the request (the gateway sees the connection go)
 *   /hang          never answers
 *   /status/502    answers with that status (200-599)
 *   /big?kb=512    a body of kb KiB, streamed
 *
 * SIGTERM and SIGINT close the server and exit 0. `--port 0` picks a free port; the start line names it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const MAX_SLOW_MS = 120_000;
const MAX_BIG_KB = 1024 * 1024;
const KIB = Buffer.alloc(1024, 'gatewise demo backend\n');

interface Instance {
  readonly name: string;
  readonly startedAt: Date;
}

type Route = (request: IncomingMessage, response: ServerResponse, url: URL, instance: Instance) => void;

const ROUTES: Record<string, Route> = {
  '/': hello,
  '/health': (_request, response) => send(response, 200, 'text/plain; charset=utf-8', 'ok'),
  '/slow': slow,
  '/crash': crash,
  '/hang': () => {},
  '/big': big,
};

function hello(_request: IncomingMessage, response: ServerResponse, _url: URL, instance: Instance): void {
  const body = {
    message: `Hello from demo backend ${instance.name}`,
    instance: instance.name,
    pid: process.pid,
    time: new Date().toISOString(),
    up_s: Math.round((Date.now() - instance.startedAt.getTime()) / 1000),
  };
  send(response, 200, 'application/json', JSON.stringify(body));
}

function slow(_request: IncomingMessage, response: ServerResponse, url: URL): void {
  const delayMs = boundedNumber(url.searchParams.get('ms'), 3000, MAX_SLOW_MS);
  const timer = setTimeout(
    () => send(response, 200, 'text/plain; charset=utf-8', `answered after ${delayMs} ms`),
    delayMs,
  );
  response.once('close', () => clearTimeout(timer));
}

function crash(_request: IncomingMessage, _response: ServerResponse, _url: URL, instance: Instance): void {
  process.stderr.write(`demo backend ${instance.name} crashing on request (/crash)\n`);
  // No response byte is written: the process dies mid-request, as a crashed or OOM-killed app does.
  process.exit(1);
}

function big(_request: IncomingMessage, response: ServerResponse, url: URL): void {
  const kib = boundedNumber(url.searchParams.get('kb'), 512, MAX_BIG_KB);
  response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': kib * KIB.length });
  let sent = 0;
  const pump = (): void => {
    while (sent < kib) {
      if (response.destroyed) return;
      sent++;
      if (!response.write(KIB)) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

function statusRoute(path: string): Route | undefined {
  const match = /^\/status\/(\d{3})$/.exec(path);
  if (match === null) return undefined;
  const status = Number(match[1]);
  if (status < 200 || status > 599) return undefined;
  return (_request, response) => {
    // RFC 9110 §6.4.1: 204 and 304 carry no content.
    if (status === 204 || status === 304) response.writeHead(status).end();
    else send(response, status, 'text/plain; charset=utf-8', `status ${status} from the demo backend`);
  };
}

function boundedNumber(raw: string | null, fallback: number, max: number): number {
  const value = raw === null ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) return fallback;
  return Math.min(Math.floor(value), max);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(`demo backend: ${message}\n`);
  process.exit(exitCode);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      // PORT and HOST are what Gatewise gives a managed server.
      port: { type: 'string', default: process.env.PORT ?? '5001' },
      name: { type: 'string', default: 'a' },
      host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, got ${values.port}`, 2);
  const instance: Instance = { name: values.name, startedAt: new Date() };

  const server = createServer((request, response) => {
    response.setHeader('X-Demo-Backend', instance.name);
    const url = new URL(request.url ?? '/', 'http://demo.invalid');
    const route = ROUTES[url.pathname] ?? statusRoute(url.pathname);
    // The body is drained so keep-alive connections stay usable; the demo routes ignore it.
    request.resume();
    if (route === undefined) send(response, 404, 'application/json', JSON.stringify({ error: 'not found' }));
    else route(request, response, url, instance);
  });

  server.once('error', (error: NodeJS.ErrnoException) =>
    fail(`cannot listen on ${values.host}:${port}: ${error.message}`, 1),
  );
  server.listen(port, values.host, () => {
    const address = server.address() as AddressInfo;
    process.stdout.write(`demo backend ${instance.name} listening on ${address.address}:${address.port}\n`);
  });

  const stop = (): void => {
    server.close(() => process.exit(0));
    // Hanging and slow requests would hold close() open; a stopping backend drops them.
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
