/** Bounded request loads for tests: N requests over a few keep-alive connections, every outcome kept. */
import { Pool } from 'undici';

export interface LoadResult {
  statuses: number[];
  errors: string[];
  bodies: string[];
}

export async function load(
  origin: string,
  opts: {
    requests: number;
    concurrency: number;
    method?: string;
    path?: string;
    body?: string;
    during?: (done: number) => void;
  },
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: opts.concurrency });
  const result: LoadResult = { statuses: [], errors: [], bodies: [] };
  let next = 0;
  const worker = async () => {
    while (next < opts.requests) {
      const i = next++;
      opts.during?.(i);
      try {
        const res = await pool.request({
          method: (opts.method ?? 'GET') as 'GET',
          path: opts.path ?? '/',
          body: opts.body,
          headers: opts.body ? { 'content-type': 'text/plain' } : {},
        });
        result.statuses.push(res.statusCode);
        result.bodies.push(await res.body.text());
      } catch (error) {
        result.errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  await pool.close();
  return result;
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 20 ms until it returns true (bounded). */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}
