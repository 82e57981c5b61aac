import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { answersHttp, responseProblem, verifyTarget } from '../../bench/lib/http-check.js';

const expected = Buffer.from('gatewise bench body\n');

test('only a 200 with the exact body passes', () => {
  assert.equal(responseProblem({ status: 200, body: Buffer.from(expected) }, expected), undefined);
  assert.equal(responseProblem({ status: 502, body: Buffer.alloc(0) }, expected), 'answered 502 instead of 200');
  assert.equal(responseProblem({ status: 200, body: Buffer.alloc(3) }, expected), 'body of 3 bytes instead of 20');
  assert.equal(
    responseProblem({ status: 200, body: Buffer.from('gatewise bench BODY\n') }, expected),
    'body differs from the backend’s',
  );
});

test('verifyTarget names what a fast-failing proxy answers', async (t) => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (req.url === '/good') res.end(expected);
    else res.writeHead(502).end('bad gateway');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  assert.equal(await verifyTarget(`${base}/good`, expected), undefined);
  assert.equal(requests, 3);
  assert.equal(await verifyTarget(`${base}/bad`, expected), 'answered 502 instead of 200');
  assert.equal(await answersHttp(`${base}/bad`), true);
});

test('verifyTarget and answersHttp report a closed port', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  assert.match((await verifyTarget(`http://127.0.0.1:${port}/`, expected)) ?? '', /^request failed: .*ECONNREFUSED/);
  assert.equal(await answersHttp(`http://127.0.0.1:${port}/`), false);
});
