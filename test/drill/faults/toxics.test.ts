/** Each Toxiproxy toxic's effect, seen from a real client through the proxy to a real upstream. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectOutcome, eventually, exchange, proxyTo, startFaults, startTcpUpstream } from './helpers.js';

/** libuv caches its clock per loop turn, so a timer may fire up to ~1 ms early against performance.now(). */
const CLOCK_SLACK_MS = 2;

test('without toxics, bytes pass both ways unchanged and the connection closes cleanly', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port);
  const payload = Buffer.alloc(200_000, 'abc');
  const { socket, done } = exchange(t, port, payload);
  socket.once('data', () => socket.end());
  const received = await done;
  assert.equal(received.bytes.length, payload.length);
  assert.ok(received.bytes.equals(payload));
  assert.equal(received.ending, 'end');
  await eventually(() => faults.connectionCount('service') === 0, 3000, 'the connection to be forgotten');
});

test('latency delays data by at least `latency` ms in the chosen direction, jitter keeps it within ± jitter', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'latency', attributes: { latency: 150 } }]);
  const first = exchange(t, port, 'ping', 2000);
  first.socket.once('data', () => first.socket.end());
  const down = await first.done;
  assert.equal(down.bytes.toString(), 'ping');
  assert.ok(down.firstByteMs! >= 150 - CLOCK_SLACK_MS, `first byte after ${down.firstByteMs} ms`);

  faults.removeToxic('service', 'latency_downstream');
  faults.addToxic('service', { type: 'latency', stream: 'upstream', attributes: { latency: 120, jitter: 40 } });
  const second = exchange(t, port, 'pong', 2000);
  second.socket.once('data', () => second.socket.end());
  const up = await second.done;
  assert.equal(up.bytes.toString(), 'pong');
  assert.ok(up.firstByteMs! >= 80 - CLOCK_SLACK_MS, `first byte after ${up.firstByteMs} ms`);
});

test('bandwidth limits the rate: 40 KB at 200 KB/s takes at least 200 ms, every byte intact', async (t) => {
  const faults = await startFaults(t);
  const body = Buffer.alloc(40_000, 'x');
  const upstream = await startTcpUpstream(t, (socket) => socket.end(body));
  const port = await proxyTo(faults, upstream.port, [{ type: 'bandwidth', attributes: { rate: 200 } }]);
  const received = await exchange(t, port, undefined, 5000).done;
  assert.equal(received.ending, 'end');
  assert.ok(received.bytes.equals(body));
  assert.ok(received.endMs >= 200 - CLOCK_SLACK_MS, `done after ${received.endMs} ms`);
});

test('timeout is a blackhole: no data gets through and the connection closes `timeout` ms after the last data', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'timeout', attributes: { timeout: 250 } }]);
  const received = await exchange(t, port, 'hello?', 3000).done;
  assert.equal(received.bytes.length, 0);
  assert.equal(received.ending, 'end');
  assert.ok(received.endMs >= 250 - CLOCK_SLACK_MS, `closed after ${received.endMs} ms`);
  // The request did reach the upstream: only the answer was swallowed.
  assert.equal(Buffer.concat(upstream.received[0]!).toString(), 'hello?');
});

test('timeout 0 never closes; removing the toxic closes the connection (its data is lost)', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port, [
    { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
  ]);
  const { socket, done } = exchange(t, port, 'lost', 4000);
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(ended, false, 'still open while the timeout toxic is there');
  assert.equal(upstream.received[0]?.length ?? 0, 0, 'nothing reached the upstream');
  faults.removeToxic('service', 'timeout_upstream');
  const received = await done;
  assert.equal(received.ending, 'end');
  assert.equal(received.bytes.length, 0);
  assert.ok(socket.destroyed);
});

test('reset_peer resets the connection (ECONNRESET), at once or after `timeout` ms from the first data', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'reset_peer', stream: 'upstream' }]);
  const now = await exchange(t, port, 'boom', 3000).done;
  assert.equal(now.ending, 'error');
  assert.equal(now.code, 'ECONNRESET');
  assert.equal(now.bytes.length, 0);

  faults.removeToxic('service', 'reset_peer_upstream');
  faults.addToxic('service', { type: 'reset_peer', attributes: { timeout: 200 } });
  const later = await exchange(t, port, 'boom', 3000).done;
  assert.equal(later.code, 'ECONNRESET');
  assert.ok(later.endMs >= 200 - CLOCK_SLACK_MS, `reset after ${later.endMs} ms`);
});

test('slow_close delivers the data at once but holds the close for `delay` ms', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t, (socket) => socket.end('bye'));
  const port = await proxyTo(faults, upstream.port, [{ type: 'slow_close', attributes: { delay: 300 } }]);
  const received = await exchange(t, port, undefined, 3000).done;
  assert.equal(received.bytes.toString(), 'bye');
  assert.equal(received.ending, 'end');
  assert.ok(received.endMs >= 300 - CLOCK_SLACK_MS, `closed after ${received.endMs} ms`);
  assert.ok(received.firstByteMs! < received.endMs, 'the data came before the close');
});

test('slicer delivers every byte, in order, in many small pieces', async (t) => {
  const faults = await startFaults(t);
  const body = Buffer.from(Array.from({ length: 600 }, (_, i) => i % 251));
  const upstream = await startTcpUpstream(t, (socket) => socket.end(body));
  const port = await proxyTo(faults, upstream.port, [
    { type: 'slicer', attributes: { average_size: 10, size_variation: 4, delay: 3000 } },
  ]);
  const received = await exchange(t, port, undefined, 5000).done;
  assert.equal(received.ending, 'end');
  assert.ok(received.bytes.equals(body));
  // 600 bytes cut near 10 make about 60 pieces, 3 ms apart: far more reads than the 1 unsliced.
  assert.ok(received.chunkSizes.length >= 20, `only ${received.chunkSizes.length} reads`);
  assert.ok(Math.max(...received.chunkSizes) < 600);
});

test('limit_data closes the connection after exactly `bytes` bytes', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t, (socket) => socket.write(Buffer.alloc(5000, 'y')));
  const port = await proxyTo(faults, upstream.port, [{ type: 'limit_data', attributes: { bytes: 1234 } }]);
  const received = await exchange(t, port, undefined, 3000).done;
  assert.equal(received.ending, 'end');
  assert.equal(received.bytes.length, 1234);
});

test('down: a disabled proxy refuses connects and closes open ones; enabled again it serves the same port', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port);
  const open = exchange(t, port, undefined, 3000);
  await eventually(() => faults.connectionCount('service') === 1, 3000, 'the connection');
  const info = await faults.setEnabled('service', false);
  assert.equal(info.enabled, false);
  const closed = await open.done;
  assert.notEqual(closed.ending, 'timeout');
  assert.equal(await connectOutcome(port), 'ECONNREFUSED');

  await faults.setEnabled('service', true);
  const again = exchange(t, port, 'back');
  again.socket.once('data', () => again.socket.end());
  assert.equal((await again.done).bytes.toString(), 'back');
});

test('toxicity 0 never applies a toxic, toxicity 1 always does (decided per connection)', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'timeout', toxicity: 0, attributes: { timeout: 0 } }]);
  for (let i = 0; i < 5; i++) {
    const { socket, done } = exchange(t, port, 'through', 2000);
    socket.once('data', () => socket.end());
    assert.equal((await done).bytes.toString(), 'through', `connection ${i}`);
  }
  faults.updateToxic('service', 'timeout_downstream', { toxicity: 1 });
  for (let i = 0; i < 5; i++) {
    const received = await exchange(t, port, 'swallowed', 200).done;
    assert.equal(received.ending, 'timeout', `connection ${i}`);
    assert.equal(received.bytes.length, 0);
  }
});

test('toxics added or removed while a connection is open apply to it at once; held data is not lost', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port);
  const { socket, done } = exchange(t, port, undefined, 5000);
  const chunks: string[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  await eventually(() => faults.connectionCount('service') === 1, 3000, 'the connection');

  faults.addToxic('service', { type: 'latency', attributes: { latency: 60_000 } });
  socket.write('held');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(chunks, [], 'the latency holds the echo');
  faults.removeToxic('service', 'latency_downstream');
  await eventually(() => chunks.join('') === 'held', 2000, 'the held bytes');
  socket.end();
  assert.equal((await done).ending, 'end');
});

test('limit_data counts across updates of the toxic on an open connection', async (t) => {
  const faults = await startFaults(t);
  const upstream = await startTcpUpstream(t);
  const port = await proxyTo(faults, upstream.port, [{ type: 'limit_data', attributes: { bytes: 10 } }]);
  const { socket, done } = exchange(t, port, '123456', 3000);
  await eventually(() => upstream.received[0]?.length === 1, 2000, 'the first bytes');
  faults.updateToxic('service', 'limit_data_downstream', { attributes: { bytes: 8 } });
  socket.write('abcdef');
  const received = await done;
  assert.equal(received.bytes.toString(), '123456ab');
  assert.equal(received.ending, 'end');
});
