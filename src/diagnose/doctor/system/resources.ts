/**
 * Readers of the system's resource state, each returning undefined (or a reason) when the file is
 * not there or not readable, never throwing: memory and swap, load, open-file limits, local port
 * range, cgroup memory counters, OOM kills in the kernel log, SELinux, disk space.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  statfsSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

function read(root: string, path: string): string | undefined {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

export interface MemoryInfo {
  totalKb: number;
  availableKb: number;
  swapTotalKb: number;
  swapFreeKb: number;
}

export function readMemory(root: string): MemoryInfo | undefined {
  const text = read(root, 'proc/meminfo');
  if (text === undefined) return undefined;
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const info = {
    totalKb: field('MemTotal'),
    availableKb: field('MemAvailable'),
    swapTotalKb: field('SwapTotal'),
    swapFreeKb: field('SwapFree'),
  };
  return Number.isNaN(info.totalKb) || Number.isNaN(info.availableKb) ? undefined : info;
}

export function readLoad(root: string): number[] | undefined {
  const text = read(root, 'proc/loadavg');
  const values = text?.split(' ').slice(0, 3).map(Number);
  return values && values.length === 3 && values.every(Number.isFinite) ? values : undefined;
}

/** Soft limit of open files of a process ('self' or a pid). */
export function readFileLimit(root: string, pid: number | 'self'): number | undefined {
  const text = read(root, `proc/${pid}/limits`);
  const match = text && /^Max open files\s+(\d+|unlimited)\s+/m.exec(text);
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

export function readPortRange(root: string): [number, number] | undefined {
  const text = read(root, 'proc/sys/net/ipv4/ip_local_port_range');
  const parts = text?.trim().split(/\s+/).map(Number);
  return parts && parts.length === 2 && parts.every(Number.isFinite) ? [parts[0]!, parts[1]!] : undefined;
}

export interface CgroupMemory {
  /** The cgroup as /proc/PID/cgroup names it. */
  path: string;
  version: 1 | 2;
  oomKills: number | undefined;
  /** v1: times usage hit the limit. */
  failcnt: number | undefined;
}

/** The memory cgroup of a process and its OOM counters (v2 memory.events, v1 memory.oom_control / memory.failcnt). */
export function readCgroupMemory(root: string, pid: number | 'self'): CgroupMemory | undefined {
  const text = read(root, `proc/${pid}/cgroup`);
  if (text === undefined) return undefined;
  const lines = text.trim().split('\n');
  const v1 = lines.map((line) => line.split(':')).find((parts) => parts[1]?.split(',').includes('memory'));
  if (v1 !== undefined) {
    const path = v1.slice(2).join(':');
    const base = existingDir(root, [join('sys/fs/cgroup/memory', path), 'sys/fs/cgroup/memory']);
    if (base === undefined) return undefined;
    const oom = read(root, join(base, 'memory.oom_control'));
    const failcnt = read(root, join(base, 'memory.failcnt'));
    return {
      path,
      version: 1,
      oomKills: numberAfter(oom, 'oom_kill'),
      failcnt: failcnt === undefined ? undefined : Number(failcnt.trim()),
    };
  }
  const v2 = lines.find((line) => line.startsWith('0::'));
  if (v2 === undefined) return undefined;
  const path = v2.slice(3);
  const base = existingDir(root, [join('sys/fs/cgroup', path), 'sys/fs/cgroup']);
  if (base === undefined) return undefined;
  const events = read(root, join(base, 'memory.events'));
  if (events === undefined) return undefined;
  return { path, version: 2, oomKills: numberAfter(events, 'oom_kill'), failcnt: undefined };
}

function existingDir(root: string, candidates: string[]): string | undefined {
  return candidates.find((candidate) => existsSync(join(root, candidate)));
}

function numberAfter(text: string | undefined, key: string): number | undefined {
  const match = text && new RegExp(`^${key} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface OomEvent {
  /** Seconds since the kill. */
  ageS: number;
  pid: number;
  command: string;
  line: string;
}

export type KernelLog = { readable: true; events: OomEvent[] } | { readable: false; why: string };

const MAX_KMSG_RECORDS = 100_000;
const OOM_LINE = /(?:Out of memory|Memory cgroup out of memory): Killed process (\d+) \(([^)]*)\)/;

/** OOM kills recorded in the kernel ring buffer (/dev/kmsg: readable by root, or when dmesg_restrict is 0). */
export function readKernelOomKills(root: string): KernelLog {
  let fd: number;
  try {
    fd = openSync(join(root, 'dev/kmsg'), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { readable: false, why: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  const uptimeS = Number(read(root, 'proc/uptime')?.split(' ')[0] ?? Number.NaN);
  const events: OomEvent[] = [];
  const record = (text: string): void => {
    const match = OOM_LINE.exec(text);
    if (!match) return;
    const [prefix = '', message = ''] = text.split(';', 2);
    const usec = Number(prefix.split(',')[2]);
    events.push({
      ageS: Number.isFinite(uptimeS) && Number.isFinite(usec) ? Math.max(0, uptimeS - usec / 1e6) : Number.NaN,
      pid: Number(match[1]),
      command: match[2]!,
      line: message.split('\n')[0]!.trim(),
    });
  };
  const buffer = Buffer.alloc(8192);
  try {
    // A saved copy of the log (a regular file) holds many records; the device gives one per read.
    if (fstatSync(fd).isFile()) {
      for (const line of readFileSync(fd, 'utf8').split('\n')) if (!line.startsWith(' ')) record(line);
      return { readable: true, events };
    }
    for (let count = 0; count < MAX_KMSG_RECORDS; count++) {
      let bytes: number;
      try {
        bytes = readSync(fd, buffer);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // EAGAIN: the end of the buffer; EPIPE: a record was overwritten while reading, read on.
        if (code === 'EPIPE') continue;
        if (code === 'EAGAIN') break;
        return { readable: false, why: code ?? String(error) };
      }
      if (bytes === 0) break;
      record(buffer.subarray(0, bytes).toString('utf8'));
    }
  } finally {
    closeSync(fd);
  }
  return { readable: true, events };
}

export interface SelinuxState {
  enforcing: boolean;
  /** The httpd_can_network_connect boolean, when the policy has it. */
  httpdCanNetworkConnect: boolean | undefined;
}

export function readSelinux(root: string): SelinuxState | undefined {
  const enforce = read(root, 'sys/fs/selinux/enforce');
  if (enforce === undefined) return undefined;
  const boolean = read(root, 'sys/fs/selinux/booleans/httpd_can_network_connect');
  return {
    enforcing: enforce.trim() === '1',
    httpdCanNetworkConnect: boolean === undefined ? undefined : boolean.trim().startsWith('1'),
  };
}

export interface DiskSpace {
  /** The folder measured (the path's folder, or the nearest existing one above it). */
  folder: string;
  /** The file system's device number: paths on one device are one disk. */
  device: number;
  freeShare: number;
  freeBytes: number;
  freeInodeShare: number | undefined;
}

export function readDiskSpace(path: string): DiskSpace | undefined {
  let folder = path;
  while (!isFolder(folder)) {
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
  try {
    const stats = statfsSync(folder);
    if (stats.blocks === 0) return undefined;
    return {
      folder,
      device: statSync(folder).dev,
      freeShare: stats.bavail / stats.blocks,
      freeBytes: stats.bavail * stats.bsize,
      freeInodeShare: stats.files > 0 ? stats.ffree / stats.files : undefined,
    };
  } catch {
    return undefined;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
