import * as assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';

const BACKEND = fileURLToPath(new URL('../../src/demo/backend.js', import.meta.url));

interface Backend {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly port: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

async function startBackend(t: TestContext, name: string): Promise<Backend> {
  const child = spawn(process.execPath, [BACKEND, '--port', '0', '--name', name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline !== -1) resolve(stdout.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`backend exited with ${code}: ${stderr}`)));
  });
  const match = new RegExp(`^demo backend ${name} listening on 127\\.0\\.0\\.1:(\\d+)$`).exec(line);
  assert.ok(match, `start line: ${line}`);
  return { child, port: Number(match[1]), exited, stderr: () => stderr };
}

function client(t: TestContext, backend: Backend): Client {
  const http = new Client(`http://127.0.0.1:${backend.port}`);
  t.after(() => http.destroy());
  return http;
}

test('demo backend: hello, health, status, slow and big', async (t) => {
  const backend = await startBackend(t, 'a');
  const http = client(t, backend);

  const health = await http.request({ method: 'GET', path: '/health' });
  assert.equal(health.statusCode, 200);
  assert.equal(health.headers['x-demo-backend'], 'a');
  assert.equal(await health.body.text(), 'ok');

  const hello = await http.request({ method: 'GET', path: '/' });
  assert.equal(hello.statusCode, 200);
  const body = (await hello.body.json()) as { instance: string; pid: number; time: string; message: string };
  assert.equal(body.instance, 'a');
  assert.equal(body.pid, backend.child.pid);
  assert.ok(!Number.isNaN(Date.parse(body.time)));
  assert.match(body.message, /demo backend a/);

  const status = await http.request({ method: 'GET', path: '/status/502' });
  assert.equal(status.statusCode, 502);
  await status.body.text();

  const startedAt = Date.now();
  const slow = await http.request({ method: 'GET', path: '/slow?ms=200' });
  assert.equal(slow.statusCode, 200);
  await slow.body.text();
  assert.ok(Date.now() - startedAt >= 190);

  const big = await http.request({ method: 'GET', path: '/big?kb=64' });
  assert.equal(big.headers['content-length'], String(64 * 1024));
  assert.equal((await big.body.arrayBuffer()).byteLength, 64 * 1024);

  const missing = await http.request({ method: 'GET', path: '/nope' });
  assert.equal(missing.statusCode, 404);
  await missing.body.text();
});

test('demo backend: /crash kills the process in the middle of the request', async (t) => {
  const backend = await startBackend(t, 'crashy');
  await assert.rejects(client(t, backend).request({ method: 'GET', path: '/crash' }), (error: Error) => {
    // undici names a connection closed before any response byte "other side closed".
    assert.match(`${error.name} ${error.message}`, /SocketError|ECONNRESET|other side closed/);
    return true;
  });
  assert.deepEqual(await backend.exited, { code: 1, signal: null });
  assert.match(backend.stderr(), /crashing/);
});

test('demo backend: SIGTERM exits 0, even with a hanging request open', async (t) => {
  const backend = await startBackend(t, 'b');
  const http = client(t, backend);
  const hanging = http.request({ method: 'GET', path: '/hang' });
  hanging.catch(() => {});
  // Let the hanging request reach the backend before stopping it.
  const health = await client(t, backend).request({ method: 'GET', path: '/health' });
  await health.body.text();
  await new Promise((resolve) => setTimeout(resolve, 100));
  backend.child.kill('SIGTERM');
  assert.deepEqual(await backend.exited, { code: 0, signal: null });
  await assert.rejects(hanging);
});

test('demo backend: a bad --port is refused with exit code 2', async () => {
  const child = spawn(process.execPath, [BACKEND, '--port', 'eighty'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /--port must be 0-65535/);
});
