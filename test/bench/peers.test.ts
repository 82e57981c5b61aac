import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer, get, type IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { answersHttp, fetchOnce } from '../../bench/lib/http-check.js';
import { freePort, ProcessGroup, waitUntilReady } from '../../bench/lib/processes.js';
import { withoutHopByHop } from '../../bench/peers/peer-args.js';

/** Each peer script, with the status it answers when its upstream refuses (reply-from's own mapping is 500). */
const PEERS = [
  { script: 'undici-stream.js', refusedStatus: 502 },
  { script: 'reply-from.js', refusedStatus: 500 },
  { script: 'http-proxy.js', refusedStatus: 502 },
];

test('hop-by-hop fields are dropped, including those the Connection field names', () => {
  assert.deepEqual(
    withoutHopByHop({
      host: 'a',
      connection: 'keep-alive, X-Private',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'x-private': '1',
      'x-kept': ['1', '2'],
    }),
    { host: 'a', 'x-kept': ['1', '2'] },
  );
});

interface Seen {
  url: string | undefined;
  headers: IncomingHttpHeaders;
}

for (const { script, refusedStatus } of PEERS) {
  test(`${script} forwards the path unchanged and passes the answer back`, async (t) => {
    const seen: Seen[] = [];
    const backend = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      if (req.url === '/missing') res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
      else res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': 'yes' }).end(`hello ${req.url}`);
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    t.after(() => backend.close());
    const backendPort = (backend.address() as { port: number }).port;

    const group = new ProcessGroup();
    t.after(() => group.stopAll());
    const port = await freePort();
    const file = fileURLToPath(new URL(`../../bench/peers/${script}`, import.meta.url));
    const peer = group.spawn(
      script,
      process.execPath,
      [file, '--port', String(port), '--upstream', `http://127.0.0.1:${backendPort}`, '--connections', '4'],
      { cpus: '0' },
    );
    await waitUntilReady(peer, () => answersHttp(`http://127.0.0.1:${port}/ready`), 15_000);

    const ok = await fetchOnce(`http://127.0.0.1:${port}/a/b%20c?d=1&e`, 5000);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'hello /a/b%20c?d=1&e');
    assert.equal(seen.at(-1)?.url, '/a/b%20c?d=1&e');
    const missing = await fetchOnce(`http://127.0.0.1:${port}/missing`, 5000);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.toString(), 'nope');
  });

  test(`${script} answers ${refusedStatus} when the upstream refuses`, async (t) => {
    const group = new ProcessGroup();
    t.after(() => group.stopAll());
    const port = await freePort();
    const closedPort = await freePort();
    const file = fileURLToPath(new URL(`../../bench/peers/${script}`, import.meta.url));
    const peer = group.spawn(
      script,
      process.execPath,
      [file, '--port', String(port), '--upstream', `http://127.0.0.1:${closedPort}`, '--connections', '1'],
      { cpus: '0' },
    );
    await waitUntilReady(peer, () => answersHttp(`http://127.0.0.1:${port}/`), 15_000);
    const response = await fetchOnce(`http://127.0.0.1:${port}/small`, 5000);
    assert.equal(response.status, refusedStatus);
  });
}

for (const { script } of PEERS) {
  test(`${script} keeps working after a client leaves mid-response`, { timeout: 30_000 }, async (t) => {
    // 8 MiB that the backend writes as fast as the proxy reads it: a client that reads only the head
    // and closes leaves the proxy with an unfinished upstream response.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const backend = createServer((req, res) => {
      if (req.url !== '/big') return void res.end('small');
      res.writeHead(200, { 'content-length': String(128 * chunk.length) });
      let sent = 0;
      const pump = (): void => {
        while (sent < 128 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    t.after(() => {
      backend.closeAllConnections();
      backend.close();
    });
    const group = new ProcessGroup();
    t.after(() => group.stopAll());
    const port = await freePort();
    const file = fileURLToPath(new URL(`../../bench/peers/${script}`, import.meta.url));
    // One upstream connection: if the abandoned response pins it, the next request never starts.
    const peer = group.spawn(
      script,
      process.execPath,
      [
        file,
        '--port',
        String(port),
        '--upstream',
        `http://127.0.0.1:${(backend.address() as { port: number }).port}`,
        '--connections',
        '1',
      ],
      { cpus: '0' },
    );
    await waitUntilReady(peer, () => answersHttp(`http://127.0.0.1:${port}/small`), 15_000);

    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        // A stuck proxy never answers: the request's own timeout turns that into a failure.
        const req = get({ host: '127.0.0.1', port, path: '/big', agent: false, timeout: 5000 }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('timeout', () => {
          reject(new Error(`request ${i + 1} got no response within 5 s`));
          req.destroy();
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
    }
    const after = await fetchOnce(`http://127.0.0.1:${port}/small`, 5000);
    assert.equal(after.status, 200);
    assert.equal(after.body.toString(), 'small');
  });
}
