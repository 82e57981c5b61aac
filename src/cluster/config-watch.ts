/**
 * The watch on `<prefix>/config`. The client's watcher reconnects by itself and resumes from its
 * last revision; the config source wants to decide instead (a full read first, then a watch from
 * that read's revision + 1), so a watcher here lives for one connection: opened once it is
 * confirmed, closed at the first disconnection.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { withTimeout } from './etcd-client.js';

export interface WatchHandlers {
  put(kv: IKeyValue): void;
  delete(): void;
  /** The stream broke: etcd is out of reach. */
  disconnected(error: Error): void;
  /** etcd canceled the watch (a compacted start revision, lost permission). */
  canceled(error: Error): void;
}

/** Opens a watch from `revision`; rejects when etcd does not confirm it within `timeoutMs`. */
export async function openWatch(
  client: Etcd3,
  key: string,
  revision: number,
  timeoutMs: number,
  handlers: WatchHandlers,
): Promise<Watcher> {
  const watcher = client.watch().key(key).startRevision(String(revision)).watcher();
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        watcher.once('connected', () => resolve());
        watcher.once('disconnected', reject);
        watcher.once('error', reject);
      }),
      timeoutMs,
      'etcd watch',
    );
  } catch (error) {
    await closeWatch(watcher, timeoutMs);
    throw error;
  }
  watcher.removeAllListeners('disconnected').removeAllListeners('error');
  watcher.on('put', (kv: IKeyValue) => handlers.put(kv));
  watcher.on('delete', () => handlers.delete());
  watcher.on('disconnected', (error: Error) => handlers.disconnected(error));
  watcher.on('error', (error: Error) => handlers.canceled(error));
  return watcher;
}

/** Cancels a watch; its late events go nowhere. */
export async function closeWatch(watcher: Watcher, timeoutMs: number): Promise<void> {
  watcher.removeAllListeners('put').removeAllListeners('delete').removeAllListeners('disconnected');
  watcher.removeAllListeners('error').on('error', () => undefined);
  await withTimeout(watcher.cancel(), timeoutMs, 'watch cancel').catch(() => undefined);
}
