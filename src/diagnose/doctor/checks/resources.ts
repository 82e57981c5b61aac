/**
 * The host under the gateway and its backends: memory and swap, OOM kills (kernel log and cgroup
 * counters of the gateway's and backends' processes), disk space where logs and temp files go,
 * load, open-file limit against connection settings, ephemeral ports against TIME_WAIT, SELinux.
 */
import { cpus } from 'node:os';
import {
  readCgroupMemory,
  readDiskSpace,
  readFileLimit,
  readKernelOomKills,
  readLoad,
  readMemory,
  readPortRange,
  readSelinux,
} from '../system/resources.js';
import { commandOf } from '../system/sockets.js';
import type { DoctorFinding } from '../types.js';
import { type CheckContext, type DoctorCheck, finding } from './shared.js';

const CHECK = 'resources';
/** Shares of free memory, disk, or ports below which things start to fail. */
const CRITICAL_FREE = 0.05;
const WARNING_FREE = 0.1;
const PORTS_WARNING_USED = 0.5;
const PORTS_CRITICAL_USED = 0.8;
/** OOM kills older than this are history, not news. */
const RECENT_OOM_S = 24 * 3600;
/** Folders Debian's nginx writes to when the configuration does not say. */
const NGINX_DEFAULT_WRITE_PATHS = ['/var/log/nginx', '/var/lib/nginx'];

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

function ago(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'at an unknown time';
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function memory(ctx: CheckContext): DoctorFinding[] {
  const info = readMemory(ctx.root);
  if (info === undefined) {
    ctx.skip(CHECK, 'memory', '/proc/meminfo is not readable');
    return [];
  }
  const share = info.availableKb / info.totalKb;
  const text = `${Math.round(info.availableKb / 1024)} MiB of ${Math.round(info.totalKb / 1024)} MiB available (${percent(share)})`;
  const swapUsed = info.swapTotalKb > 0 ? 1 - info.swapFreeKb / info.swapTotalKb : 0;
  const swap =
    info.swapTotalKb > 0 ? `swap ${percent(swapUsed)} used of ${Math.round(info.swapTotalKb / 1024)} MiB` : 'no swap';
  const findings: DoctorFinding[] = [];
  if (share < WARNING_FREE)
    findings.push(
      finding(share < CRITICAL_FREE ? 'critical' : 'warning', CHECK, `memory is low: ${text}`, {
        evidence: ['/proc/meminfo MemAvailable', swap],
        cause: 'crash_or_oom',
        fix: 'find what uses the memory (ps aux --sort=-rss | head); backends killed by the OOM killer show as resets and 502s',
      }),
    );
  else findings.push(finding('ok', CHECK, `memory: ${text}; ${swap}`));
  if (swapUsed > 0.5)
    findings.push(
      finding('warning', CHECK, `swap is ${percent(swapUsed)} used`, {
        evidence: [swap],
        cause: 'slow_backend',
        fix: 'a swapping backend answers slowly and runs into read timeouts: add memory or reduce what runs here',
      }),
    );
  return findings;
}

/** Processes that matter: those listening on the gateway's ports and on local target ports. */
function interestingPids(ctx: CheckContext): Map<number, string> {
  const ports = new Set(ctx.model.listen.map((listen) => listen.port));
  for (const target of ctx.model.targets)
    for (const server of target.servers) if (server.kind === 'tcp') ports.add(server.port);
  const paths = new Set(
    ctx.model.targets.flatMap((target) => target.servers.flatMap((s) => (s.kind === 'unix' ? [s.path] : []))),
  );
  const pids = new Map<number, string>();
  const table = ctx.sockets();
  for (const listener of table.tcp)
    if (listener.pid !== undefined && ports.has(listener.port)) pids.set(listener.pid, listener.command ?? '');
  for (const listener of table.unix)
    if (listener.pid !== undefined && paths.has(listener.path)) pids.set(listener.pid, listener.command ?? '');
  return pids;
}

function oomKills(ctx: CheckContext): DoctorFinding[] {
  const findings: DoctorFinding[] = [];
  const kernel = readKernelOomKills(ctx.root);
  if (!kernel.readable)
    ctx.skip(
      CHECK,
      'OOM kills in the kernel log (/dev/kmsg)',
      `${kernel.why}: readable only by root here; try sudo dmesg | grep -i "killed process" or journalctl -k`,
    );
  else {
    const recent = kernel.events.filter((event) => !(event.ageS > RECENT_OOM_S));
    if (recent.length > 0)
      findings.push(
        finding(
          'warning',
          CHECK,
          `the kernel OOM killer killed ${recent.length} process${recent.length === 1 ? '' : 'es'} in the last 24 h`,
          {
            evidence: recent.slice(-5).map((event) => `${ago(event.ageS)}: ${event.line}`),
            cause: 'crash_or_oom',
            fix: 'a backend killed for memory drops its connections (502) until restarted: give it more memory or find its leak',
          },
        ),
      );
    else findings.push(finding('ok', CHECK, 'no OOM kills in the kernel log of the last 24 h'));
  }
  const seen = new Set<string>();
  for (const [pid, command] of [['self', 'gatewise doctor'] as const, ...interestingPids(ctx)]) {
    const cgroup = readCgroupMemory(ctx.root, pid);
    if (cgroup === undefined || seen.has(cgroup.path)) continue;
    seen.add(cgroup.path);
    const who = pid === 'self' ? 'this session' : `\`${command || commandOf(ctx.root, pid)}\` (pid ${pid})`;
    const counter = cgroup.version === 2 ? 'memory.events oom_kill' : 'memory.oom_control oom_kill';
    if ((cgroup.oomKills ?? 0) > 0)
      findings.push(
        finding(
          'warning',
          CHECK,
          `memory cgroup of ${who} counts ${cgroup.oomKills} OOM kill${cgroup.oomKills === 1 ? '' : 's'}`,
          {
            evidence: [
              `cgroup v${cgroup.version} ${cgroup.path}: ${counter} ${cgroup.oomKills}${cgroup.failcnt ? `, memory.failcnt ${cgroup.failcnt}` : ''}`,
            ],
            cause: 'crash_or_oom',
            fix: "raise the cgroup's memory limit (container or systemd MemoryMax) or reduce the process's memory",
          },
        ),
      );
  }
  return findings;
}

function disks(ctx: CheckContext): DoctorFinding[] {
  const paths = [...ctx.model.writePaths];
  if (ctx.model.kind === 'nginx') paths.push(...NGINX_DEFAULT_WRITE_PATHS);
  const findings: DoctorFinding[] = [];
  const seen = new Set<number>();
  for (const path of paths) {
    const space = readDiskSpace(path);
    if (space === undefined || seen.has(space.device)) continue;
    seen.add(space.device);
    const free = Math.min(space.freeShare, space.freeInodeShare ?? 1);
    const text = `${percent(space.freeShare)} free (${Math.round(space.freeBytes / 1024 / 1024)} MiB)${space.freeInodeShare !== undefined ? `, ${percent(space.freeInodeShare)} of inodes free` : ''}`;
    if (free < WARNING_FREE)
      findings.push(
        finding(
          free < CRITICAL_FREE ? 'critical' : 'warning',
          CHECK,
          `disk of ${space.folder} is nearly full: ${text}`,
          {
            evidence: [`written by the gateway: ${path}`],
            cause: 'overload_or_exhaustion',
            fix: 'free space (old logs: logrotate); a full disk makes nginx fail to buffer responses to temp files and lose logs',
          },
        ),
      );
    else findings.push(finding('ok', CHECK, `disk of ${space.folder}: ${text}`));
  }
  return findings;
}

function load(ctx: CheckContext): DoctorFinding[] {
  const values = readLoad(ctx.root);
  if (values === undefined) {
    ctx.skip(CHECK, 'load', '/proc/loadavg is not readable');
    return [];
  }
  const cores = cpus().length;
  const text = `load ${values.join(' ')} on ${cores} CPU${cores === 1 ? '' : 's'}`;
  // The 5-minute average: a burst is not an overload.
  if (values[1]! > cores * 2)
    return [
      finding('warning', CHECK, `the host is overloaded: ${text}`, {
        evidence: ['/proc/loadavg'],
        cause: 'overload_or_exhaustion',
        fix: 'an overloaded host answers slowly (read timeouts, 504): find the busy processes (top) or add capacity',
      }),
    ];
  return [finding('ok', CHECK, text)];
}

/** The gateway's open-file limit against the connections its configuration allows. */
function fileLimit(ctx: CheckContext): DoctorFinding[] {
  const gatewayPid = interestingGatewayPid(ctx);
  const limit = readFileLimit(ctx.root, gatewayPid ?? 'self');
  if (limit === undefined) {
    ctx.skip(CHECK, 'open-file limit', `/proc/${gatewayPid ?? 'self'}/limits is not readable`);
    return [];
  }
  const whose =
    gatewayPid === undefined ? "doctor's own, the gateway is not running" : `the gateway's, pid ${gatewayPid}`;
  const wanted = ctx.model.maxConnections;
  const effective = wanted?.rlimitNofile ?? limit;
  const limitText =
    wanted?.rlimitNofile !== undefined
      ? `worker_rlimit_nofile ${wanted.rlimitNofile}`
      : `open-file limit ${limit} (${whose})`;
  if (wanted !== undefined && effective < wanted.perProcess)
    return [
      finding('warning', CHECK, `${wanted.setting} allows more connections than ${limitText}`, {
        evidence: [`each proxied request holds two connections (client and upstream), each a file descriptor`],
        cause: 'overload_or_exhaustion',
        fix: `set "worker_rlimit_nofile ${wanted.perProcess * 2};" in nginx.conf (or LimitNOFILE= in its systemd unit)`,
      }),
    ];
  if (wanted === undefined && effective < 4096)
    return [
      finding('warning', CHECK, `${limitText} is low for a gateway`, {
        evidence: ['each proxied request holds two file descriptors'],
        cause: 'overload_or_exhaustion',
        fix: 'raise it (LimitNOFILE= in the systemd unit, or ulimit -n) to at least 65536',
      }),
    ];
  return [finding('ok', CHECK, `${limitText}${wanted ? ` covers ${wanted.setting}` : ''}`)];
}

function interestingGatewayPid(ctx: CheckContext): number | undefined {
  const ports = new Set(ctx.model.listen.map((listen) => listen.port));
  return ctx.sockets().tcp.find((listener) => listener.pid !== undefined && ports.has(listener.port))?.pid;
}

function ephemeralPorts(ctx: CheckContext): DoctorFinding[] {
  const range = readPortRange(ctx.root);
  const table = ctx.sockets();
  if (range === undefined || table.missing.includes('/proc/net/tcp')) {
    ctx.skip(CHECK, 'ephemeral ports', 'ip_local_port_range or /proc/net/tcp is not readable');
    return [];
  }
  const size = range[1] - range[0] + 1;
  const used = table.timeWait / size;
  const text = `${table.timeWait} connections in TIME_WAIT, ${table.established} established; ephemeral ports ${range[0]}-${range[1]} (${size})`;
  if (used > PORTS_WARNING_USED)
    return [
      finding(
        used > PORTS_CRITICAL_USED ? 'critical' : 'warning',
        CHECK,
        `local ports are running out: ${percent(used)} in TIME_WAIT`,
        {
          evidence: [text],
          cause: 'overload_or_exhaustion',
          fix: 'reuse upstream connections (keepalive in the upstream block; Gatewise keepalive.max_idle), widen net.ipv4.ip_local_port_range, or enable net.ipv4.tcp_tw_reuse',
        },
      ),
    ];
  return [finding('ok', CHECK, text)];
}

function selinux(ctx: CheckContext): DoctorFinding[] {
  const state = readSelinux(ctx.root);
  if (state === undefined) return [finding('ok', CHECK, 'SELinux is not enabled')];
  if (!state.enforcing) return [finding('ok', CHECK, 'SELinux is permissive')];
  if (ctx.model.kind === 'nginx' && state.httpdCanNetworkConnect === false)
    return [
      finding('warning', CHECK, 'SELinux is enforcing and httpd_can_network_connect is off', {
        evidence: ['/sys/fs/selinux/enforce: 1', '/sys/fs/selinux/booleans/httpd_can_network_connect: 0'],
        cause: 'permission_or_selinux',
        fix: 'nginx confined as httpd_t may not connect to upstream ports: setsebool -P httpd_can_network_connect 1 (check ausearch -m avc)',
      }),
    ];
  return [finding('info', CHECK, 'SELinux is enforcing', { evidence: ['/sys/fs/selinux/enforce: 1'] })];
}

/** Each row one resource: adding one is adding a row. */
const RESOURCES: ReadonlyArray<(ctx: CheckContext) => DoctorFinding[]> = [
  memory,
  oomKills,
  disks,
  load,
  fileLimit,
  ephemeralPorts,
  selinux,
];

export const resourcesCheck: DoctorCheck = {
  name: CHECK,
  description: 'memory, swap, OOM kills, disk space, load, open-file limit, ephemeral ports, SELinux',
  async run(ctx: CheckContext): Promise<DoctorFinding[]> {
    return RESOURCES.flatMap((resource) => resource(ctx));
  },
};
