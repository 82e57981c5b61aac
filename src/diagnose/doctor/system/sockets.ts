/**
 * Who listens where, from /proc: TCP listeners and TIME_WAIT counts from /proc/net/tcp{,6}, unix
 * stream listeners from /proc/net/unix, and the owning process of each socket found through the
 * socket inodes in /proc/PID/fd (readable for one's own processes, all of them as root).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface TcpListener {
  address: string;
  port: number;
  inode: number;
  uid: number;
  pid?: number;
  command?: string;
}

export interface UnixListener {
  path: string;
  inode: number;
  pid?: number;
  command?: string;
}

export interface SocketTable {
  tcp: TcpListener[];
  unix: UnixListener[];
  timeWait: number;
  established: number;
  /** Processes whose /proc/PID/fd could not be read (other users' processes, without root). */
  unreadablePids: number;
  /** What could not be read at all (no /proc, another OS). */
  missing: string[];
}

const TCP_LISTEN = '0A';
const TCP_TIME_WAIT = '06';
const TCP_ESTABLISHED = '01';
/** __SO_ACCEPTCON in /proc/net/unix flags: the socket is listening. */
const UNIX_ACCEPTING = 0x10000;
const SOCK_STREAM = 1;
const MAX_COMMAND_CHARS = 60;

/** "0100007F:1388" (little-endian words on the usual hosts) -> 127.0.0.1, 5000. */
export function decodeProcAddress(text: string): { address: string; port: number } {
  const [hex = '', portHex = '0'] = text.split(':');
  const port = Number.parseInt(portHex, 16);
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse().map((byte) => Number.parseInt(byte, 16)));
  if (bytes.length === 4) return { address: bytes.join('.'), port };
  if (bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return { address: bytes.slice(12).join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { address: compressIpv6(groups), port };
}

function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

export function readSocketTable(root = '/'): SocketTable {
  const table: SocketTable = { tcp: [], unix: [], timeWait: 0, established: 0, unreadablePids: 0, missing: [] };
  for (const name of ['tcp', 'tcp6']) {
    const text = readOrUndefined(join(root, 'proc/net', name));
    if (text === undefined) {
      table.missing.push(`/proc/net/${name}`);
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const state = fields[3];
      if (state === TCP_TIME_WAIT) table.timeWait++;
      else if (state === TCP_ESTABLISHED) table.established++;
      else if (state === TCP_LISTEN) {
        const { address, port } = decodeProcAddress(fields[1]!);
        table.tcp.push({ address, port, uid: Number(fields[7]), inode: Number(fields[9]) });
      }
    }
  }
  const unix = readOrUndefined(join(root, 'proc/net/unix'));
  if (unix === undefined) table.missing.push('/proc/net/unix');
  for (const line of unix?.split('\n').slice(1) ?? []) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const flags = Number.parseInt(fields[3]!, 16);
    const type = Number.parseInt(fields[4]!, 16);
    const path = fields.slice(7).join(' ');
    if ((flags & UNIX_ACCEPTING) !== 0 && type === SOCK_STREAM && path.startsWith('/'))
      table.unix.push({ path, inode: Number(fields[6]) });
  }
  mapOwners(table, root);
  return table;
}

/** Fills pid and command of each listener from the socket inodes in /proc/PID/fd. */
function mapOwners(table: SocketTable, root: string): void {
  const wanted = new Map<number, Array<TcpListener | UnixListener>>();
  for (const socket of [...table.tcp, ...table.unix]) {
    const list = wanted.get(socket.inode);
    if (list) list.push(socket);
    else wanted.set(socket.inode, [socket]);
  }
  if (wanted.size === 0) return;
  let pids: string[];
  try {
    pids = readdirSync(join(root, 'proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    table.missing.push('/proc');
    return;
  }
  let left = wanted.size;
  for (const pid of pids) {
    if (left === 0) break;
    const fdDir = join(root, 'proc', pid, 'fd');
    let fds: string[];
    try {
      fds = readdirSync(fdDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') table.unreadablePids++;
      continue;
    }
    let command: string | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(join(fdDir, fd));
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(link);
      const sockets = match ? wanted.get(Number(match[1])) : undefined;
      if (!sockets || sockets[0]!.pid !== undefined) continue;
      command ??= commandOf(root, pid);
      for (const socket of sockets) {
        socket.pid = Number(pid);
        socket.command = command;
      }
      left--;
    }
  }
}

/** The command line of a process, shortened; its comm name when the command line is empty. */
export function commandOf(root: string, pid: string | number): string {
  const raw = readOrUndefined(join(root, 'proc', String(pid), 'cmdline')) ?? '';
  let command = raw
    .split('\0')
    .filter((part) => part !== '')
    .join(' ');
  if (command === '') command = (readOrUndefined(join(root, 'proc', String(pid), 'comm')) ?? '?').trim();
  return command.length > MAX_COMMAND_CHARS ? `${command.slice(0, MAX_COMMAND_CHARS - 3)}...` : command;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
