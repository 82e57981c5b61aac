/**
 * A raw HTTP/1.1 client for tests: writes exact bytes and reads the whole reply until the server
 * closes, so tests see precisely what went over the wire (including resets and short bodies).
 */
import * as net from 'node:net';

export interface RawReply {
  /** Everything received, latin1. */
  text: string;
  /** The connection ended with a reset/error rather than a clean close. */
  reset: boolean;
  errorCode: string | undefined;
}

export function rawExchange(port: number, request: string | Buffer, timeoutMs = 10000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no end of reply within ${timeoutMs} ms; got: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`,
        ),
      );
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      errorCode = e.code;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), reset: errorCode !== undefined, errorCode });
    });
    socket.write(request);
  });
}

export interface ParsedReply {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Splits one complete reply (no 1xx) into status, lowercased headers (last wins) and body. */
export function parseReply(text: string): ParsedReply {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete head in: ${JSON.stringify(text.slice(0, 200))}`);
  const lines = text.slice(0, end).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers, body: text.slice(end + 4) };
}

/** GET with Connection: close and the given extra header lines. */
export function get(port: number, path: string, extra: Record<string, string> = {}): Promise<ParsedReply> {
  const lines = Object.entries(extra)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: test.local\r\n${lines}Connection: close\r\n\r\n`).then((r) =>
    parseReply(r.text),
  );
}
