/**
 * The /proc and /sys readers, and the listeners and resources checks: against this machine's real
 * /proc for what a test can create (its own listeners), and against a prepared tree (`root`) for
 * states a test cannot bring about (low memory, OOM kills, SELinux, exhausted ports).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { decodeProcAddress, readSocketTable, runDoctor } from '../../../src/diagnose/doctor/index.js';
import { findingsOf, gatewiseConfig, nginxConfig, tempDir, upstream } from './support.js';

function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function tcpLine(index: number, local: string, state: string, inode: number): string {
  return `   ${index}: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

test('addresses of /proc/net/tcp{,6} decode to what ss prints', () => {
  assert.deepEqual(decodeProcAddress('0100007F:1388'), { address: '127.0.0.1', port: 5000 });
  assert.deepEqual(decodeProcAddress('00000000:0050'), { address: '0.0.0.0', port: 80 });
  assert.deepEqual(decodeProcAddress('00000000000000000000000001000000:1F90'), { address: '::1', port: 8080 });
  assert.deepEqual(decodeProcAddress('00000000000000000000000000000000:0016'), { address: '::', port: 22 });
  assert.deepEqual(decodeProcAddress('0000000000000000FFFF00000100007F:0BB8'), { address: '127.0.0.1', port: 3000 });
  assert.deepEqual(decodeProcAddress('B80D0120000000000000000001000000:01BB'), { address: '2001:db8::1', port: 443 });
});

test("this process's own TCP and unix listeners are found in /proc with its pid", async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as net.AddressInfo).port;
  const path = join(tempDir(t), 'x.sock');
  await upstream(t, 'ok', { unixPath: path });
  const table = readSocketTable();
  const tcp = table.tcp.find((listener) => listener.port === port);
  assert.ok(tcp, `port ${port} not among ${table.tcp.length} listeners`);
  assert.equal(tcp.address, '127.0.0.1');
  assert.equal(tcp.pid, process.pid);
  assert.match(tcp.command ?? '', /node/);
  const unix = table.unix.find((listener) => listener.path === path);
  assert.equal(unix?.pid, process.pid);
});

test('a prepared /proc: listeners, owners through fd links, TIME_WAIT and established counts', (t) => {
  const root = tempDir(t);
  put(
    root,
    'proc/net/tcp',
    TCP_HEADER +
      tcpLine(0, '0100007F:0BB8', '0A', 111) +
      tcpLine(1, '0100007F:9C40', '06', 0) +
      tcpLine(2, '0100007F:9C41', '01', 0),
  );
  put(root, 'proc/net/tcp6', TCP_HEADER + tcpLine(0, '00000000000000000000000001000000:1388', '0A', 222));
  put(
    root,
    'proc/net/unix',
    'Num       RefCount Protocol Flags    Type St Inode Path\n0000: 00000002 00000000 00010000 0001 01 333 /run/app.sock\n0000: 00000002 00000000 00000000 0001 03 334 /run/client.sock\n',
  );
  put(root, 'proc/4242/cmdline', 'node\0server.js\0');
  mkdirSync(join(root, 'proc/4242/fd'), { recursive: true });
  symlinkSync('socket:[111]', join(root, 'proc/4242/fd/3'));
  symlinkSync('socket:[333]', join(root, 'proc/4242/fd/4'));
  symlinkSync('/dev/null', join(root, 'proc/4242/fd/0'));
  const table = readSocketTable(root);
  assert.deepEqual(table.tcp, [
    { address: '127.0.0.1', port: 3000, uid: 1000, inode: 111, pid: 4242, command: 'node server.js' },
    { address: '::1', port: 5000, uid: 1000, inode: 222 },
  ]);
  assert.deepEqual(table.unix, [{ path: '/run/app.sock', inode: 333, pid: 4242, command: 'node server.js' }]);
  assert.equal(table.timeWait, 1);
  assert.equal(table.established, 1);
  assert.deepEqual(table.missing, []);
});

test('listeners: the gateway listening is ok, not listening is info; a missing /proc is not checked', async (t) => {
  const ok = await upstream(t, 'ok');
  const dir = tempDir(t);
  const file = join(dir, 'gw.yaml');
  writeFileSync(
    file,
    `listen:\n  - address: 127.0.0.1:${ok.port}\nadmin:\n  address: 127.0.0.1:1\nupstreams:\n  api:\n    servers:\n      - url: http://127.0.0.1:2\nroutes:\n  - upstream: api\n`,
  );
  const report = await runDoctor({ config: file, checks: ['listeners'] });
  assert.deepEqual(
    findingsOf(report, 'listeners').map((found) => [found.severity, found.target]),
    [
      ['info', 'listen 127.0.0.1:1'],
      ['ok', `listen 127.0.0.1:${ok.port}`],
    ],
  );
  assert.match(
    findingsOf(report, 'listeners')[0]!.title,
    /^nothing listens on Gatewise's admin address 127\.0\.0\.1:1$/,
  );

  const empty = await runDoctor({ config: file, checks: ['listeners'], root: tempDir(t) });
  assert.deepEqual(empty.findings, []);
  assert.deepEqual(
    empty.not_checked.map((entry) => entry.what),
    ['/proc/net/tcp', '/proc/net/tcp6', '/proc/net/unix'],
  );
});

test("another program on nginx's listen address is a warning: nginx cannot bind it", async (t) => {
  const other = await upstream(t, 'ok');
  const file = nginxConfig(
    t,
    `  server { listen 127.0.0.1:${other.port}; location / { proxy_pass http://127.0.0.1:9; } }`,
  );
  const report = await runDoctor({ nginx: file, checks: ['listeners'] });
  const [found] = findingsOf(report, 'listeners');
  assert.equal(found!.severity, 'warning');
  assert.match(
    found!.title,
    new RegExp(`\\(pid ${process.pid}\\) listens on 127\\.0\\.0\\.1:${other.port} \\(nginx's listen address`),
  );
  assert.match(found!.fix!, /nginx cannot bind/);
});

test('resources on a prepared host: low memory, OOM kills, overload, file limit, exhausted ports, SELinux', async (t) => {
  const root = tempDir(t);
  put(
    root,
    'proc/meminfo',
    'MemTotal:        1000000 kB\nMemFree:           10000 kB\nMemAvailable:      30000 kB\nSwapTotal:        100000 kB\nSwapFree:          20000 kB\n',
  );
  const load = cpus().length * 10;
  put(root, 'proc/loadavg', `${load}.00 ${load}.00 ${load}.00 3/200 999\n`);
  put(root, 'proc/uptime', '100000.00 1.00\n');
  put(
    root,
    'dev/kmsg',
    '6,1,99000000000,-;eth0: link up\n3,2,99990000000,-;Out of memory: Killed process 4242 (node) total-vm:1000kB\n',
  );
  put(
    root,
    'proc/self/limits',
    'Limit                     Soft Limit           Hard Limit           Units\nMax open files            32                   32                   files\n',
  );
  put(root, 'proc/self/cgroup', '0::/app.slice/app.service\n');
  put(root, 'sys/fs/cgroup/app.slice/app.service/memory.events', 'low 0\nhigh 0\nmax 12\noom 3\noom_kill 3\n');
  put(root, 'proc/sys/net/ipv4/ip_local_port_range', '60000\t60009\n');
  let tcp = TCP_HEADER;
  for (let i = 0; i < 9; i++) tcp += tcpLine(i, `0100007F:${(40000 + i).toString(16).toUpperCase()}`, '06', 0);
  put(root, 'proc/net/tcp', tcp);
  put(root, 'proc/net/tcp6', TCP_HEADER);
  put(root, 'sys/fs/selinux/enforce', '1');
  put(root, 'sys/fs/selinux/booleans/httpd_can_network_connect', '0 0');
  const file = nginxConfig(t, '  server { location / { proxy_pass http://127.0.0.1:9; } }');
  const report = await runDoctor({ nginx: file, checks: ['resources'], root });
  const titles = findingsOf(report, 'resources')
    .filter((found) => found.severity !== 'ok')
    .map((found) => [found.severity, found.title, found.cause]);
  assert.deepEqual(titles, [
    ['critical', 'local ports are running out: 90% in TIME_WAIT', 'overload_or_exhaustion'],
    ['critical', 'memory is low: 29 MiB of 977 MiB available (3.0%)', 'crash_or_oom'],
    ['warning', 'memory cgroup of this session counts 3 OOM kills', 'crash_or_oom'],
    ['warning', 'SELinux is enforcing and httpd_can_network_connect is off', 'permission_or_selinux'],
    ['warning', 'swap is 80% used', 'slow_backend'],
    [
      'warning',
      'the host is overloaded: ' +
        `load ${load} ${load} ${load} on ${cpus().length} CPU${cpus().length === 1 ? '' : 's'}`,
      'overload_or_exhaustion',
    ],
    ['warning', 'the kernel OOM killer killed 1 process in the last 24 h', 'crash_or_oom'],
    [
      'warning',
      "worker_connections 64 × worker_processes 1 allows more connections than open-file limit 32 (doctor's own, the gateway is not running)",
      'overload_or_exhaustion',
    ],
  ]);
  const oom = findingsOf(report, 'resources').find((found) => found.title.startsWith('the kernel OOM killer'))!;
  assert.deepEqual(oom.evidence, ['10 s ago: Out of memory: Killed process 4242 (node) total-vm:1000kB']);
});

test('resources on this machine: runs without failing and says what it could not read', async (t) => {
  const config = gatewiseConfig(t, { api: { servers: ['http://127.0.0.1:9'] } });
  const report = await runDoctor({ config, checks: ['resources'] });
  const titles = findingsOf(report, 'resources').map((found) => found.title);
  assert.ok(
    titles.some((title) => /memory/.test(title)),
    titles.join('\n'),
  );
  assert.ok(
    titles.some((title) => /TIME_WAIT/.test(title)),
    titles.join('\n'),
  );
  assert.ok(!report.not_checked.some((entry) => entry.why.startsWith('it failed')), JSON.stringify(report.not_checked));
});
