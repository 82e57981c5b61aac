import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError } from '../../bench/lib/errors.js';
import {
  clockTicksPerSecond,
  countEstablished,
  cpuMicrosPerRequest,
  establishedConnectionsTo,
  isSameProcess,
  parseProcNetTcp,
  parseProcStat,
  parseVmRssBytes,
  processTree,
  sampleTree,
  treeTicks,
} from '../../bench/lib/proc.js';

// 52 fields as in proc(5); utime=14 → 111, stime=15 → 22, cutime=16 → 3, cstime=17 → 4, starttime=22 → 98765.
const STAT =
  '4242 (we(ird) name)) S 17 4242 4242 0 -1 4194560 1000 0 0 0 111 22 3 4 20 0 11 0 98765 1234567 2345 ' +
  '18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0';

test('parses a stat line whose comm holds spaces and parentheses', () => {
  const stat = parseProcStat(STAT);
  assert.equal(stat.pid, 4242);
  assert.equal(stat.comm, 'we(ird) name)');
  assert.equal(stat.state, 'S');
  assert.equal(stat.ppid, 17);
  assert.equal(stat.utimeTicks, 111);
  assert.equal(stat.stimeTicks, 22);
  assert.equal(stat.cutimeTicks, 3);
  assert.equal(stat.cstimeTicks, 4);
  assert.equal(stat.startTimeTicks, 98765);
  assert.equal(treeTicks(stat), 140);
});

test('rejects what is not a stat line', () => {
  assert.throws(() => parseProcStat('hello'), BenchError);
  assert.throws(
    () => parseProcStat('1 (x) S 1'),
    (err: unknown) => err instanceof BenchError && err.code === 'GW_BENCH_PROC',
  );
});

test('reads this process’s own stat and status', () => {
  const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.equal(stat.pid, process.pid);
  assert.equal(stat.ppid, process.ppid);
  assert.equal(isSameProcess(process.pid, stat.startTimeTicks), true);
  assert.equal(isSameProcess(process.pid, stat.startTimeTicks + 1), false);
  const rss = parseVmRssBytes(readFileSync('/proc/self/status', 'utf8'));
  assert.ok(rss !== undefined && rss > 1024 * 1024, `VmRSS ${rss}`);
  assert.equal(parseVmRssBytes('Name:\tx\nVmRSS:\t    2048 kB\n'), 2048 * 1024);
  assert.equal(parseVmRssBytes('Name:\tzombie\nState:\tZ (zombie)\n'), undefined);
});

test('CPU per request in microseconds', () => {
  assert.equal(cpuMicrosPerRequest(500, 100, 100_000), 50);
  assert.equal(cpuMicrosPerRequest(3, 100, 0), undefined);
  assert.ok(clockTicksPerSecond() > 0);
});

test('a tree sample keeps the CPU of a child that exited and was reaped', async (t) => {
  // The child burns 300 ms of CPU (measured by its own cpuUsage, not the wall clock), then exits;
  // the shell reaps it and stays alive, so the CPU must show in the shell's cutime.
  const burn = 'const s=process.cpuUsage();while(process.cpuUsage(s).user+process.cpuUsage(s).system<300000);';
  const shell = spawn('sh', ['-c', `"${process.execPath}" -e '${burn}'; echo done; exec sleep 30`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => shell.kill('SIGKILL'));
  const before = sampleTree(shell.pid!);
  assert.ok(before.pids.length >= 1);
  await once(shell.stdout!, 'data');
  const after = sampleTree(shell.pid!);
  assert.ok(
    after.cpuTicks - before.cpuTicks >= 0.2 * clockTicksPerSecond(),
    `${after.cpuTicks - before.cpuTicks} ticks`,
  );
  assert.ok(after.rssBytes > 0);
});

test('the process tree includes grandchildren', async (t) => {
  const shell = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
  t.after(() => {
    for (const pid of processTree(shell.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
  for (let i = 0; i < 100 && processTree(shell.pid!).length < 3; i++) await sleep(20);
  const tree = processTree(shell.pid!);
  assert.equal(tree.length, 3);
  assert.equal(tree[0], shell.pid);
  assert.deepEqual(processTree(2 ** 22 + 1), []);
});

test('parses /proc/net/tcp lines', () => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0',
    '   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 20 4 30 10 -1',
    '   2: 0100007F:D432 0100007F:1F90 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0',
  ].join('\n');
  const entries = parseProcNetTcp(text);
  assert.deepEqual(entries[1], { localPort: 0xd431, remotePort: 8080, state: 1, inode: 2222 });
  assert.equal(entries.length, 3);
  assert.equal(countEstablished(entries, 8080, new Set([2222])), 1);
  assert.equal(countEstablished(entries, 8080, new Set([1111])), 0);
  assert.equal(countEstablished(entries, 8081, new Set([2222])), 0);
});

test('counts the established connections a process holds to a port', async (t) => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  assert.equal(establishedConnectionsTo(process.pid, port), 0);
  const client = createConnection(port, '127.0.0.1');
  t.after(() => client.destroy());
  await once(client, 'connect');
  // Only the client side counts: the accepted socket's remote port is the client's, not `port`.
  assert.equal(establishedConnectionsTo(process.pid, port), 1);
});
