import { request } from 'node:http';

/** One complete response read over a fresh connection. */
export interface FetchedResponse {
  status: number;
  body: Buffer;
}

/** GET `url` on a new connection (no agent pooling) and read the whole body. */
export function fetchOnce(url: string, timeoutMs: number): Promise<FetchedResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no complete answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** True once something answers HTTP at `url`, whatever the status. */
export async function answersHttp(url: string): Promise<boolean> {
  try {
    await fetchOnce(url, 1000);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a response is not the one the backend serves, or undefined when it is: status 200 and
 * the exact body. A proxy answering errors quickly must not be measured as fast.
 */
export function responseProblem(response: FetchedResponse, expected: Buffer): string | undefined {
  if (response.status !== 200) return `answered ${response.status} instead of 200`;
  if (response.body.length !== expected.length) {
    return `body of ${response.body.length} bytes instead of ${expected.length}`;
  }
  if (!response.body.equals(expected)) return 'body differs from the backend’s';
  return undefined;
}

/** Checks a few requests through a target; returns the first problem found, if any. */
export async function verifyTarget(url: string, expected: Buffer, attempts = 3): Promise<string | undefined> {
  for (let i = 0; i < attempts; i++) {
    let response: FetchedResponse;
    try {
      response = await fetchOnce(url, 5000);
    } catch (err) {
      return `request failed: ${(err as Error).message}`;
    }
    const problem = responseProblem(response, expected);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
