/**
 * What the kernel says about memory: the resident memory of a process group (from /proc), and the
 * OOM kills of our cgroup (cgroup v2 `memory.events`, where the kernel counts `oom_kill`). Nothing
 * here needs root; a value that cannot be read is null and the caller says so.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Resident bytes of every process in process group `pgid`, or null when /proc cannot be read. */
export function groupResidentBytes(pgid: number): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  let total = 0;
  let found = false;
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    try {
      // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'latin1');
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
      if (rss) total += Number(rss[1]) * 1024;
      found = true;
    } catch {
      // the process ended while being read
    }
  }
  return found ? total : null;
}

/** Where this process's cgroup (v2) keeps its memory events; children started by us share it. */
function memoryEventsPath(): string | null {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (line === undefined) return null;
    const path = line.slice(3).trim();
    return `/sys/fs/cgroup${path === '/' ? '' : path}/memory.events`;
  } catch {
    return null;
  }
}

const EVENTS_PATH = memoryEventsPath();

/** The cgroup's OOM-kill count so far, or null when there is no readable cgroup v2 memory.events. */
export function cgroupOomKills(): number | null {
  if (EVENTS_PATH === null) return null;
  try {
    const text = readFileSync(EVENTS_PATH, 'utf8');
    const match = /^oom_kill (\d+)$/m.exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Lines a runtime prints when it runs out of memory on its own (a heap limit, a failed allocation)
 * rather than being killed: Node/V8, the C++ and C allocators, Python, Java, Go.
 */
export const OUT_OF_MEMORY_LINE =
  /JavaScript heap out of memory|Allocation failed|std::bad_alloc|Cannot allocate memory|MemoryError|java\.lang\.OutOfMemoryError|fatal error: runtime: out of memory/;
