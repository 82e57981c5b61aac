import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bigBody, startBackend } from '../../bench/lib/backend.js';
import { BenchError } from '../../bench/lib/errors.js';
import { fetchOnce } from '../../bench/lib/http-check.js';
import {
  acceptedBetween,
  backendConfig,
  nginxArgs,
  parseStubStatus,
  proxyConfig,
  SMALL_BODY,
} from '../../bench/lib/nginx.js';
import { ProcessGroup } from '../../bench/lib/processes.js';

const runAsRoot = process.getuid?.() === 0;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-bench-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `nginx -t` on a config: the real parser decides whether the generated text is valid. */
function nginxTest(dir: string, file: string): { status: number | null; output: string } {
  const args = nginxArgs(dir, file, 'test').filter((a) => a !== '-g' && a !== 'daemon off;');
  const result = spawnSync('nginx', ['-t', ...args], { encoding: 'utf8' });
  return { status: result.status, output: result.stderr };
}

test('the small body is 20 bytes', () => {
  assert.equal(Buffer.byteLength(SMALL_BODY), 20);
});

test('the backend and proxy configs pass nginx -t', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'www'));
  writeFileSync(
    join(dir, 'backend.conf'),
    backendConfig({ dir, port: 1, statusPort: 2, staticRoot: join(dir, 'www'), runAsRoot }),
  );
  writeFileSync(join(dir, 'proxy.conf'), proxyConfig({ dir, port: 3, backendPort: 1, keepalive: 64, runAsRoot }));
  for (const name of ['backend.conf', 'proxy.conf']) {
    const result = nginxTest(dir, join(dir, name));
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /test is successful/);
  }
});

test('the proxy config keeps an upstream keep-alive pool of the given size', () => {
  const text = proxyConfig({ dir: '/d', port: 3, backendPort: 1, keepalive: 64, runAsRoot: false });
  assert.match(text, /^\s+keepalive 64;$/m);
  assert.match(text, /proxy_http_version 1\.1;/);
  assert.match(text, /proxy_set_header Connection "";/);
  assert.match(text, /access_log off;/);
  assert.match(text, /worker_processes 1;/);
  assert.doesNotMatch(text, /user root/);
  assert.match(proxyConfig({ dir: '/d', port: 3, backendPort: 1, keepalive: 8, runAsRoot: true }), /^user root;$/m);
});

test('parses stub_status and counts accepts between two reads', () => {
  const before = parseStubStatus(
    'Active connections: 3 \nserver accepts handled requests\n 10 10 250 \nReading: 0 Writing: 1 Waiting: 2 \n',
  );
  assert.deepEqual(before, { active: 3, accepts: 10, handled: 10, requests: 250 });
  const after = { ...before, accepts: 75 };
  assert.equal(acceptedBetween(before, after), 64);
  assert.throws(
    () => parseStubStatus('<html>404</html>'),
    (err: unknown) => err instanceof BenchError && err.code === 'GW_BENCH_STUB_STATUS',
  );
});

test('the backend serves both bodies and counts each new connection once', async (t) => {
  const dir = tempDir(t);
  const group = new ProcessGroup();
  t.after(() => group.stopAll());
  const backend = await startBackend(group, dir, runAsRoot);
  const small = await fetchOnce(`http://127.0.0.1:${backend.port}/small`, 5000);
  assert.equal(small.status, 200);
  assert.equal(small.body.toString(), SMALL_BODY);
  const big = await fetchOnce(`http://127.0.0.1:${backend.port}/1m`, 5000);
  assert.equal(big.status, 200);
  assert.ok(big.body.equals(bigBody()));
  assert.deepEqual(backend.bodies.get('/1m'), big.body);

  const before = await backend.status();
  await fetchOnce(`http://127.0.0.1:${backend.port}/small`, 5000);
  await fetchOnce(`http://127.0.0.1:${backend.port}/small`, 5000);
  const after = await backend.status();
  assert.equal(acceptedBetween(before, after), 2);
  await group.stopAll();
  assert.equal(backend.process.running, false);
});
