/**
 * The last good shared configuration, kept in `data_dir` so that a node can start (and serve) when
 * etcd cannot be reached. Written atomically: a temporary file is written, flushed and renamed over
 * the old one (rename(2) replaces in one step), so a crash mid-write leaves the previous copy.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const LAST_GOOD_FILE = 'last-good.json';

export interface LastGood {
  /** The etcd key prefix it came from: a copy from another prefix is not this cluster's. */
  prefix: string;
  /** etcd mod revision of `<prefix>/config` when it was read. */
  revision: number;
  config_hash: string;
  saved_at: string;
  /** The shared document as stored in etcd. */
  text: string;
}

export function lastGoodPath(dataDir: string): string {
  return join(dataDir, LAST_GOOD_FILE);
}

function isLastGood(value: unknown): value is LastGood {
  const v = value as Partial<LastGood> | null;
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.prefix === 'string' &&
    typeof v.revision === 'number' &&
    typeof v.config_hash === 'string' &&
    typeof v.text === 'string'
  );
}

export type LastGoodRead = { found: true; lastGood: LastGood } | { found: false; why: string };

/** Reads the copy for `prefix`; a missing, unreadable, foreign or damaged file is `found: false` with why. */
export async function readLastGood(dataDir: string, prefix: string): Promise<LastGoodRead> {
  const file = lastGoodPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'none saved yet' : `cannot read it: ${code ?? String(error)}`;
    return { found: false, why: `no last good configuration in ${file} (${why})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { found: false, why: `${file} is damaged (not JSON)` };
  }
  if (!isLastGood(parsed)) return { found: false, why: `${file} is damaged (fields missing)` };
  if (parsed.prefix !== prefix)
    return { found: false, why: `${file} holds the configuration of prefix ${parsed.prefix}, not ${prefix}` };
  return { found: true, lastGood: parsed };
}

/** Saves the copy atomically; the directory is created (owner only: the text may hold secrets). */
export async function writeLastGood(dataDir: string, lastGood: LastGood): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = lastGoodPath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(lastGood, null, 2)}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
}
