/**
 * "Nothing listens on 127.0.0.1:5000, but `node server.js` (pid 123) listens on 127.0.0.1:3000":
 * when a server refuses, the processes listening elsewhere on this host are the likely backend.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, dirname } from 'node:path';
import { isLoopbackHost } from '../../../config/index.js';
import type { DoctorModel } from '../model.js';
import type { SocketTable, TcpListener, UnixListener } from '../system/sockets.js';

/**
 * Services that are never the HTTP backend someone meant to reach: pointing the finger at them
 * would mislead. Matched against the start of the command's program name.
 */
const NOT_BACKENDS: readonly RegExp[] = [
  /^sshd?\b/,
  /^systemd/,
  /^(dnsmasq|named|unbound|chronyd|ntpd|rpcbind|rpc\.)/,
  /^(postgres|mysqld|mariadbd|mongod|redis-server|memcached|etcd)\b/,
  /^(master|exim4?|sendmail|dovecot|cupsd|avahi)/,
  /^(containerd|dockerd|kubelet)\b/,
];

function programOf(command: string): string {
  const first = command.split(' ')[0] ?? '';
  return basename(first);
}

export function isLocalAddress(address: string): boolean {
  if (isLoopbackHost(address) || address === '0.0.0.0' || address === '::') return true;
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.address === address) return true;
  }
  return false;
}

/** "`node server.js` (pid 123)", or "a process of uid 1000" when its /proc/PID/fd was not readable. */
export function ownerText(listener: { pid?: number; command?: string; uid?: number }): string {
  if (listener.pid !== undefined) return `\`${listener.command ?? '?'}\` (pid ${listener.pid})`;
  return listener.uid !== undefined ? `a process of uid ${listener.uid}` : 'an unknown process';
}

export function listenerText(listener: TcpListener): string {
  const address = listener.address.includes(':') ? `[${listener.address}]` : listener.address;
  return `${address}:${listener.port}`;
}

/** Ports the configuration accounts for: the gateway's own and those of other servers. */
function claimedPorts(model: DoctorModel, except: number): Set<number> {
  const ports = new Set<number>(model.listen.map((listen) => listen.port));
  for (const target of model.targets)
    for (const server of target.servers)
      if (server.kind === 'tcp' && (isIP(server.host) === 0 || isLocalAddress(server.host))) ports.add(server.port);
  ports.delete(except);
  return ports;
}

/** A port this close to the configured one is taken for a typo (5000 / 5001, 8080 / 8081). */
export const PORT_TYPO_DISTANCE = 10;

export interface TcpAlternatives {
  /** The listener that is very likely the intended backend, when one is. */
  likely: TcpListener | undefined;
  /** Other listeners on this host the configuration does not account for, nearest port first. */
  others: TcpListener[];
}

/**
 * Listeners on this host that may be the backend a refused address was meant to reach. One is
 * "likely" when it listens on the same port on another address (bound to ::1 but configured as
 * 127.0.0.1, say), on a port within PORT_TYPO_DISTANCE, or when it is the only process listening
 * on a port the configuration does not account for. Empty when the address is not on this host.
 */
export function tcpAlternatives(
  model: DoctorModel,
  table: SocketTable,
  address: string,
  port: number,
): TcpAlternatives {
  if (!isLocalAddress(address)) return { likely: undefined, others: [] };
  const claimed = claimedPorts(model, port);
  const seen = new Set<string>();
  const candidates = table.tcp
    .filter(
      (listener) =>
        !claimed.has(listener.port) &&
        listener.pid !== process.pid &&
        !(listener.command !== undefined && NOT_BACKENDS.some((pattern) => pattern.test(programOf(listener.command!)))),
    )
    .sort(
      (a, b) =>
        Number(b.port === port) - Number(a.port === port) ||
        Math.abs(a.port - port) - Math.abs(b.port - port) ||
        a.port - b.port,
    )
    .filter((listener) => {
      // One line per port and process: a server bound to both 0.0.0.0 and :: is one candidate.
      const key = `${listener.port}|${listener.pid ?? listener.uid}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const best = candidates[0];
  const named = candidates.filter((listener) => listener.pid !== undefined);
  const near = best !== undefined && Math.abs(best.port - port) <= PORT_TYPO_DISTANCE;
  return { likely: near ? best : named.length === 1 ? named[0] : undefined, others: candidates };
}

/** Listening unix sockets with the same file name or in the same folder as a missing one. */
export function unixAlternatives(table: SocketTable, path: string): UnixListener[] {
  const name = basename(path);
  const folder = dirname(path);
  const stem = name.replace(/\.sock(et)?$/, '');
  return table.unix
    .filter((listener) => listener.path !== path)
    .filter(
      (listener) =>
        basename(listener.path) === name ||
        dirname(listener.path) === folder ||
        (stem.length > 2 && listener.path.includes(stem)),
    )
    .sort(
      (a, b) => Number(basename(b.path) === name) - Number(basename(a.path) === name) || a.path.localeCompare(b.path),
    );
}
