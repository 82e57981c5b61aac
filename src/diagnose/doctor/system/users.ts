/** A user's uid and groups from /etc/passwd and /etc/group, and whether it may use a unix socket. */
import { readFileSync, type Stats, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface UserIds {
  name: string;
  uid: number;
  gids: number[];
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** The user by name or numeric id; undefined when /etc/passwd does not know it. */
export function lookupUser(nameOrId: string, root = '/'): UserIds | undefined {
  for (const line of readLines(join(root, 'etc/passwd'))) {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name !== nameOrId && uid !== nameOrId) continue;
    const gids = [Number(gid)];
    for (const groupLine of readLines(join(root, 'etc/group'))) {
      const [, , groupId, members] = groupLine.split(':');
      if (groupId !== undefined && members?.split(',').includes(name)) gids.push(Number(groupId));
    }
    return { name, uid: Number(uid), gids };
  }
  return undefined;
}

/** Whether `user` has the permission bits `mode` (4 read, 2 write, 1 execute) on a file. */
function allowed(stats: Stats, user: UserIds, mode: number): boolean {
  if (user.uid === 0) return (mode & 1) === 0 || (stats.mode & 0o111) !== 0 || stats.isDirectory();
  if (stats.uid === user.uid) return ((stats.mode >> 6) & mode) === mode;
  if (user.gids.includes(stats.gid)) return ((stats.mode >> 3) & mode) === mode;
  return (stats.mode & mode) === mode;
}

/**
 * Why `user` could not connect to the socket at `path`: connect(2) needs write permission on the
 * socket and search permission on every folder above it. Undefined when it could.
 */
export function socketAccessProblem(path: string, user: UserIds): string | undefined {
  const folders: string[] = [];
  for (let folder = dirname(path); ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (folder === dirname(folder)) break;
  }
  for (const folder of folders) {
    const stats = statSync(folder);
    if (!allowed(stats, user, 1)) return `${folder} (${describe(stats)}) is not searchable by ${user.name}`;
  }
  const stats = statSync(path);
  if (!allowed(stats, user, 2)) return `${path} (${describe(stats)}) is not writable by ${user.name}`;
  return undefined;
}

export function describe(stats: Stats): string {
  return `mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}, uid ${stats.uid}, gid ${stats.gid}`;
}
