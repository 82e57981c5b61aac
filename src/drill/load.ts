/**
 * The drill's client: a steady, bounded request rate against the gateway, every answer kept with
 * its time, status, `Proxy-Status` error type and `Retry-After`, plus bursts for the overload drill.
 */
import { Pool } from 'undici';

export interface Sample {
  /** When the request was sent, ms since the epoch. */
  atMs: number;
  durationMs: number;
  /** 0 when no response came (connection error). */
  status: number;
  /** The `error=` of the gateway's Proxy-Status, when it answered itself. */
  errorType: string | null;
  retryAfter: string | null;
  /** A client-side failure: no response, or a response cut short. */
  clientError: string | null;
}

export interface LoadOptions {
  /** Requests per second. */
  rps: number;
  /** Most requests in flight at once; a tick finding them all busy sends nothing. */
  concurrency: number;
  path: string;
  timeoutMs?: number;
}

const PROXY_STATUS_ERROR = /;\s*error=([a-z_]+)/;

export class SteadyLoad {
  readonly samples: Sample[] = [];
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private readonly pending = new Set<Promise<void>>();
  /** Ticks that found every slot busy. */
  skipped = 0;

  constructor(
    origin: string,
    private readonly options: LoadOptions,
  ) {
    this.pool = new Pool(origin, { connections: Math.max(options.concurrency, 64), pipelining: 1 });
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.inflight >= this.options.concurrency) {
        this.skipped++;
        return;
      }
      this.track(this.request(this.options.path));
    }, 1000 / this.options.rps);
  }

  /** `count` requests at once (beyond `concurrency`), for load-shedding drills; resolves when all are answered. */
  async burst(count: number, path = this.options.path): Promise<Sample[]> {
    return Promise.all(Array.from({ length: count }, () => this.request(path, true)));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
    await this.pool.close();
  }

  private track(promise: Promise<unknown>): void {
    const done = promise.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
  }

  private async request(path: string, uncounted = false): Promise<Sample> {
    if (!uncounted) this.inflight++;
    const atMs = Date.now();
    const started = performance.now();
    const sample: Sample = { atMs, durationMs: 0, status: 0, errorType: null, retryAfter: null, clientError: null };
    try {
      const response = await this.pool.request({
        method: 'GET',
        path,
        headersTimeout: this.options.timeoutMs ?? 10_000,
        bodyTimeout: this.options.timeoutMs ?? 10_000,
      });
      sample.status = response.statusCode;
      const proxyStatus = response.headers['proxy-status'];
      const match = typeof proxyStatus === 'string' ? PROXY_STATUS_ERROR.exec(proxyStatus) : null;
      sample.errorType = match?.[1] ?? null;
      const retryAfter = response.headers['retry-after'];
      sample.retryAfter = typeof retryAfter === 'string' ? retryAfter : null;
      // Read whole: a body cut short must surface as the client error it is.
      await response.body.arrayBuffer();
    } catch (error) {
      const e = error as Error & { code?: string };
      sample.clientError = e.code ?? e.message;
    } finally {
      sample.durationMs = performance.now() - started;
      if (!uncounted) this.inflight--;
    }
    this.samples.push(sample);
    return sample;
  }
}

/** A sample the client saw as an error: no full response, or a 5xx. */
export function isClientError(sample: Sample): boolean {
  return sample.clientError !== null || sample.status >= 500;
}
