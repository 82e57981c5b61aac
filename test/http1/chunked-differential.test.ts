import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type * as net from 'node:net';
import { connect } from 'node:net';
import { test } from 'node:test';
import * as fc from 'fast-check';
import { ChunkedScanner, HttpParseError } from '../../src/http1/index.js';

/**
 * Chunked bodies, valid and hostile, against node:http's server (llhttp). The danger in relaying
 * chunked framing unchanged is a next hop that ends the body somewhere else. Property: a body
 * node:http refuses, Gatewise refuses; a body Gatewise accepts, node:http reads as the same number
 * of data bytes and then sees the request that follows it.
 */

const RUNS = 600;
const SEED = Number(process.env.GATEWISE_DIFF_SEED ?? 20250101);
const HEAD = 'POST /first HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
const NEXT = 'GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';

interface NodeRead {
  firstBytes: number;
  firstComplete: boolean;
  second: boolean;
  error: string;
}

const caseOf = new WeakMap<net.Socket, number>();

async function startServer(): Promise<{ ask(body: Buffer): Promise<NodeRead>; close(): Promise<void> }> {
  let current = 0;
  let read: NodeRead = { firstBytes: 0, firstComplete: false, second: false, error: '' };
  const server = http.createServer((req, res) => {
    if (caseOf.get(req.socket) !== current) {
      res.destroy();
      return;
    }
    const mine = read;
    if (req.url === '/second') {
      mine.second = true;
      res.end();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      mine.firstBytes += chunk.length;
    });
    req.on('end', () => {
      mine.firstComplete = true;
      res.end();
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      mine.error ||= err.code ?? err.message;
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    caseOf.set(socket, current);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (caseOf.get(socket) === current) read.error ||= err.code ?? err.message;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    ask(body: Buffer): Promise<NodeRead> {
      current++;
      read = { firstBytes: 0, firstComplete: false, second: false, error: '' };
      const mine = read;
      return new Promise<NodeRead>((resolve, reject) => {
        const client = connect(port, '127.0.0.1', () =>
          client.end(Buffer.concat([Buffer.from(HEAD), body, Buffer.from(NEXT)])),
        );
        const timer = setTimeout(() => {
          client.destroy();
          reject(new Error(`node:http gave no verdict for ${JSON.stringify(body.toString('latin1'))}`));
        }, 5000);
        client.on('error', () => {});
        client.resume();
        client.on('close', () => {
          clearTimeout(timer);
          // The server's events for this connection ran before it closed the connection.
          setImmediate(() => resolve(mine));
        });
      });
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const hexArb = (size: number): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constant(size.toString(16)), weight: 20 },
    { arbitrary: fc.constant(size.toString(16).toUpperCase()), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        `00${size.toString(16)}`,
        `0x${size.toString(16)}`,
        `-${size}`,
        ` ${size.toString(16)}`,
      ),
      weight: 1,
    },
    { arbitrary: fc.constantFrom('ffffffffffffffffff', '10000000000000005', `${'0'.repeat(17)}1`), weight: 1 },
  );

const extArb = fc.oneof(
  { arbitrary: fc.constant(''), weight: 20 },
  { arbitrary: fc.constantFrom(';a', ';a=b', ';a="q"', ';a=b;c', ';name="x;y"', ';a="\\""'), weight: 4 },
  {
    arbitrary: fc.constantFrom(' ;a', '\t;a=b', ';a =b', ';a= b', ' ;', ';', ' ', ';a=', ';a="', ';a b', ';\x00'),
    weight: 2,
  },
);

const crlfArb = fc.oneof(
  { arbitrary: fc.constant('\r\n'), weight: 40 },
  { arbitrary: fc.constantFrom('\n', '\r', '\r\r\n', ' \r\n', ''), weight: 1 },
);

const chunkArb = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: -1, max: 1 }), extArb, crlfArb, crlfArb)
  .chain(([size, skew, ext, lineEnd, dataEnd]) =>
    fc
      .tuple(
        hexArb(size),
        fc.oneof({ arbitrary: fc.constant(0), weight: 12 }, { arbitrary: fc.constant(skew), weight: 1 }),
      )
      .map(([hex, off]) => ({ text: `${hex}${ext}${lineEnd}${'d'.repeat(Math.max(0, size + off))}${dataEnd}` })),
  );

const trailerArb = fc.oneof(
  { arbitrary: fc.constant(''), weight: 10 },
  { arbitrary: fc.constantFrom('X-T: 1\r\n', 'Expires: never\r\nX-Sum: abc\r\n'), weight: 3 },
  {
    arbitrary: fc.constantFrom('X-T: 1\n', ' X: 1\r\n', 'X : 1\r\n', 'X: \x00\r\n', 'X\r\n', 'X: a\rb\r\n'),
    weight: 1,
  },
);

const bodyArb = fc
  .tuple(
    fc.array(chunkArb, { maxLength: 4 }),
    fc.constantFrom('0', '0', '0', '00', '0;last', '0 '),
    crlfArb,
    trailerArb,
    crlfArb,
  )
  .map(
    ([chunks, last, lastEnd, trailers, end]) => chunks.map((c) => c.text).join('') + last + lastEnd + trailers + end,
  );

test('chunked bodies: every body node:http refuses, Gatewise refuses; accepted bodies end in the same place', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const scanner = new ChunkedScanner();
  const stats = { generated: 0, nodeRefused: 0, oursRefused: 0, both: 0, agreed: 0 };
  const oursOnly = new Map<string, number>();

  await fc.assert(
    fc.asyncProperty(bodyArb, async (raw) => {
      stats.generated++;
      const body = Buffer.from(raw, 'latin1');
      scanner.reset();
      let ours: number | string;
      try {
        ours = scanner.scan(body, 0, body.length);
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err;
        ours = err.code;
      }
      const node = await server.ask(body);
      const nodeRefused = node.error !== '' || !node.firstComplete;
      if (nodeRefused) stats.nodeRefused++;
      if (typeof ours === 'string' || ours === -1) {
        stats.oursRefused++;
        if (nodeRefused) stats.both++;
        else oursOnly.set(String(ours), (oursOnly.get(String(ours)) ?? 0) + 1);
        return;
      }
      assert.ok(!nodeRefused, `Gatewise accepted a body node:http refused (${node.error}): ${JSON.stringify(raw)}`);
      assert.equal(node.firstBytes, scanner.dataBytes, `data bytes of ${JSON.stringify(raw)}`);
      if (ours === body.length)
        assert.ok(node.second, `node:http did not see the next request after ${JSON.stringify(raw)}`);
      stats.agreed++;
    }),
    { numRuns: RUNS, seed: SEED },
  );

  console.log(
    `chunked bodies: ${stats.generated} generated; node:http refused ${stats.nodeRefused}, Gatewise refused ` +
      `${stats.oursRefused} (both ${stats.both}); both accepted and agreed on ${stats.agreed}; Gatewise-only ` +
      `refusals: ${[...oursOnly].map(([k, n]) => `${k}=${n}`).join(' ')}`,
  );
  assert.ok(stats.agreed > RUNS / 4, 'the generator produces enough valid bodies');
  assert.ok(stats.both > RUNS / 10, 'the generator produces enough hostile bodies');
});
