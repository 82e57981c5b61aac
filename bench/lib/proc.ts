import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { BenchError } from './errors.js';

/** The fields of /proc/PID/stat the benchmark uses (proc(5)); times are in clock ticks. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utimeTicks: number;
  stimeTicks: number;
  /** CPU of children this process has waited for; keeps a tree's total right when a child exits. */
  cutimeTicks: number;
  cstimeTicks: number;
  startTimeTicks: number;
}

/**
 * Parses one /proc/PID/stat line. `comm` may hold spaces and parentheses, so the fields are
 * counted from the last `)` (proc(5): field 2 is "(comm)", fields 3.. follow it).
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) {
    throw new BenchError('GW_BENCH_PROC', `not a /proc/PID/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const field = (n: number): number => {
    const value = Number(rest[n - 3]);
    if (!Number.isFinite(value)) {
      throw new BenchError('GW_BENCH_PROC', `/proc/PID/stat field ${n} is missing or not a number`);
    }
    return value;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: field(4),
    utimeTicks: field(14),
    stimeTicks: field(15),
    cutimeTicks: field(16),
    cstimeTicks: field(17),
    startTimeTicks: field(22),
  };
}

/** VmRSS from /proc/PID/status, in bytes; undefined for a process without one (a zombie). */
export function parseVmRssBytes(statusText: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(statusText);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** Total CPU of a process as counted for a tree: its own plus that of its reaped children. */
export function treeTicks(stat: ProcStat): number {
  return stat.utimeTicks + stat.stimeTicks + stat.cutimeTicks + stat.cstimeTicks;
}

/** Microseconds of CPU per request; undefined when nothing completed. */
export function cpuMicrosPerRequest(
  deltaTicks: number,
  clockTicksPerSec: number,
  requests: number,
): number | undefined {
  if (requests <= 0) return undefined;
  return (deltaTicks * 1_000_000) / clockTicksPerSec / requests;
}

/** `getconf CLK_TCK`: the unit of the times in /proc/PID/stat. */
export function clockTicksPerSecond(): number {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(ticks) || ticks <= 0) {
    throw new BenchError('GW_BENCH_PROC', `getconf CLK_TCK printed ${ticks}`);
  }
  return ticks;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    // The process may exit between listing /proc and reading it: that is not an error here.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') {
      return undefined;
    }
    throw err;
  }
}

/** Stats of a process and all its descendants (found by ppid across /proc), the root first. */
export function processTreeStats(rootPid: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  let root: ProcStat | undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat === undefined) continue;
    if (stat.pid === rootPid) root = stat;
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat]);
    else siblings.push(stat);
  }
  if (root === undefined) return [];
  const tree: ProcStat[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const stat = pending.pop()!;
    tree.push(stat);
    pending.push(...(children.get(stat.pid) ?? []));
  }
  return tree;
}

/** Pids of a process and all its descendants, the root first; empty when the root is gone. */
export function processTree(rootPid: number): number[] {
  return processTreeStats(rootPid).map((stat) => stat.pid);
}

/**
 * True while `pid` is still the running process that was seen with this start time: not a
 * reused pid, and not a zombie (dead, only waiting for a parent to collect its status).
 */
export function isSameProcess(pid: number, startTimeTicks: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.startTimeTicks === startTimeTicks && stat.state !== 'Z' && stat.state !== 'X';
}

/** CPU ticks and RSS of a process tree at one moment. */
export interface TreeSample {
  pids: number[];
  cpuTicks: number;
  rssBytes: number;
}

/**
 * Samples a process tree. Summing utime+stime+cutime+cstime over the live tree makes the
 * difference of two samples correct even when a child exits (and is reaped) in between.
 */
export function sampleTree(rootPid: number): TreeSample {
  const pids = processTree(rootPid);
  let cpuTicks = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat === undefined) continue;
    cpuTicks += treeTicks(stat);
    try {
      rssBytes += parseVmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8')) ?? 0;
    } catch {
      // Exited after its stat was read: its RSS is gone, which is what a sample should say.
    }
  }
  return { pids, cpuTicks, rssBytes };
}

/** One socket line of /proc/net/tcp or /proc/net/tcp6. */
export interface TcpSocketEntry {
  localPort: number;
  remotePort: number;
  /** The kernel's state number: 1 is ESTABLISHED (include/net/tcp_states.h). */
  state: number;
  inode: number;
}

/** Parses /proc/net/tcp (or tcp6): addresses are HEXIP:HEXPORT, the state is hex. */
export function parseProcNetTcp(text: string): TcpSocketEntry[] {
  const entries: TcpSocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = fields[1]!.split(':');
    const remote = fields[2]!.split(':');
    entries.push({
      localPort: Number.parseInt(local[local.length - 1]!, 16),
      remotePort: Number.parseInt(remote[remote.length - 1]!, 16),
      state: Number.parseInt(fields[3]!, 16),
      inode: Number(fields[9]),
    });
  }
  return entries;
}

const TCP_ESTABLISHED = 1;

/** Socket inodes held open by these processes (from the `socket:[INODE]` links in /proc/PID/fd). */
export function socketInodes(pids: readonly number[]): Set<number> {
  const inodes = new Set<number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match !== null) inodes.add(Number(match[1]));
      } catch {
        // The descriptor closed while we listed it.
      }
    }
  }
  return inodes;
}

/** Established TCP connections to `remotePort` among the given socket inodes. */
export function countEstablished(entries: readonly TcpSocketEntry[], remotePort: number, inodes: Set<number>): number {
  let count = 0;
  for (const entry of entries) {
    if (entry.state === TCP_ESTABLISHED && entry.remotePort === remotePort && inodes.has(entry.inode)) count++;
  }
  return count;
}

/** Established connections a process tree holds to a port on this host (IPv4 and IPv6 tables). */
export function establishedConnectionsTo(rootPid: number, remotePort: number): number {
  const inodes = socketInodes(processTree(rootPid));
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    count += countEstablished(parseProcNetTcp(text), remotePort, inodes);
  }
  return count;
}
