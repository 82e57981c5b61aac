import * as http from 'node:http';
import * as net from 'node:net';
import { Client } from 'undici';

/** What a reference parser made of one message head. */
export type Verdict =
  | { accepted: true; method: string; url: string; statusCode: number; rawHeaders: string[] }
  | { accepted: false; error: string };

export interface Oracle {
  ask(bytes: Buffer): Promise<Verdict>;
  close(): Promise<void>;
}

const ASK_TIMEOUT_MS = 5000;
const caseOf = new WeakMap<net.Socket, number>();

/**
 * A real node:http server (llhttp) on 127.0.0.1. Each ask() writes the bytes on a fresh raw
 * connection, half-closes it and reports what the server saw: a request (any of the events a
 * head can end in) or a rejection (clientError, or a 4xx written without an event, as the
 * missing-Host check does). Events of earlier connections are ignored by case number.
 */
export async function startNodeServerOracle(): Promise<Oracle> {
  const server = http.createServer();
  const sockets = new Set<net.Socket>();
  let current = 0;
  let verdict: Verdict | undefined;

  const accept = (req: http.IncomingMessage): void => {
    if (caseOf.get(req.socket) !== current || verdict !== undefined) return;
    verdict = {
      accepted: true,
      method: req.method ?? '',
      url: req.url ?? '',
      statusCode: 0,
      rawHeaders: req.rawHeaders,
    };
  };
  const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    accept(req);
    res.end('ok');
  };
  const drop = (req: http.IncomingMessage, socket: net.Socket | import('node:stream').Duplex): void => {
    accept(req);
    socket.destroy();
  };
  server.on('connection', (socket: net.Socket) => {
    caseOf.set(socket, current);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', answer);
  server.on('checkContinue', answer);
  server.on('checkExpectation', answer);
  server.on('connect', drop);
  server.on('upgrade', drop);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (caseOf.get(socket) === current && verdict === undefined) {
      verdict = { accepted: false, error: err.code ?? err.message };
    }
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    ask(bytes: Buffer): Promise<Verdict> {
      current++;
      verdict = undefined;
      return new Promise<Verdict>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const client = net.connect(port, '127.0.0.1', () => client.end(bytes));
        const timer = setTimeout(() => {
          client.destroy();
          reject(new Error(`node:http gave no verdict for ${JSON.stringify(bytes.toString('latin1'))}`));
        }, ASK_TIMEOUT_MS);
        client.on('data', (chunk: Buffer) => chunks.push(chunk));
        client.on('error', () => {});
        client.on('close', () => {
          clearTimeout(timer);
          if (verdict !== undefined) {
            resolve(verdict);
            return;
          }
          const firstLine = Buffer.concat(chunks).toString('latin1').split('\r\n', 1)[0] ?? '';
          resolve({ accepted: false, error: firstLine === '' ? 'closed without response' : firstLine });
        });
      });
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * undici's client parser (llhttp in WebAssembly) behind a raw net server on 127.0.0.1 that answers
 * the next request with the given bytes and closes. A fresh Client per ask, so one response's
 * framing can never leak into the next verdict; raw header buffers keep case and order.
 */
export async function startUndiciClientOracle(): Promise<Oracle> {
  let reply: Buffer = Buffer.alloc(0);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const bytes = reply;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => socket.end(bytes));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  return {
    ask(bytes: Buffer): Promise<Verdict> {
      reply = bytes;
      const client = new Client(origin, { pipelining: 1 });
      return new Promise<Verdict>((resolve, reject) => {
        let settled = false;
        const settle = (verdict: Verdict | Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          client.destroy().catch(() => {});
          if (verdict instanceof Error) reject(verdict);
          else resolve(verdict);
        };
        const timer = setTimeout(
          () => settle(new Error(`undici gave no verdict for ${JSON.stringify(bytes.toString('latin1'))}`)),
          ASK_TIMEOUT_MS,
        );
        client.dispatch(
          { origin, path: '/', method: 'GET' },
          {
            onConnect() {},
            onHeaders(statusCode: number, rawHeaders: Buffer[]) {
              const strings = rawHeaders.map((b) => b.toString('latin1'));
              settle({ accepted: true, method: '', url: '', statusCode, rawHeaders: strings });
              return true;
            },
            onData() {
              return true;
            },
            onComplete() {},
            onError(err: Error) {
              settle({ accepted: false, error: (err as NodeJS.ErrnoException).code ?? err.message });
            },
          },
        );
      });
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
