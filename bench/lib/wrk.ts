import { BenchError } from './errors.js';

/** What one wrk run reports, with every latency converted to microseconds. */
export interface WrkResult {
  /** Responses completed (wrk counts non-2xx responses here too). */
  requests: number;
  durationUs: number;
  requestsPerSec: number;
  latencyUs: { p50: number; p75: number; p90: number; p99: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's "Non-2xx or 3xx responses" line; 0 when wrk printed none. */
  non2xx: number;
}

// wrk's format_time() prints these units (src/units.c); a bare number never appears.
const TIME_UNIT_US = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 } as const;
type TimeUnit = keyof typeof TIME_UNIT_US;

/** `540.12us`, `2.01ms`, `1.00s`, `1.00m` → microseconds. */
export function parseWrkTime(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (match === null) {
    throw new BenchError('GW_BENCH_WRK_OUTPUT', `not a wrk time: ${JSON.stringify(text)}`);
  }
  // Rounded to nanoseconds so that `2.01ms` is 2010 µs, not 2009.9999999999998.
  return Math.round(Number(match[1]) * TIME_UNIT_US[match[2] as TimeUnit] * 1000) / 1000;
}

/** Total errors of a run: every socket error plus every non-2xx/3xx response. */
export function wrkErrorCount(result: WrkResult): number {
  const s = result.socketErrors;
  return s.connect + s.read + s.write + s.timeout + result.non2xx;
}

/** Parses the text wrk prints with `--latency`. Throws BenchError when a required line is missing. */
export function parseWrkOutput(output: string): WrkResult {
  const totals = /^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/m.exec(output);
  if (totals === null) {
    throw new BenchError('GW_BENCH_WRK_OUTPUT', 'wrk output has no "N requests in T" line');
  }
  const rate = /^Requests\/sec:\s+([\d.]+)\s*$/m.exec(output);
  if (rate === null) {
    throw new BenchError('GW_BENCH_WRK_OUTPUT', 'wrk output has no "Requests/sec:" line');
  }
  const percentiles = new Map<string, number>();
  for (const m of output.matchAll(/^\s*(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m|h))\s*$/gm)) {
    percentiles.set(m[1]!, parseWrkTime(m[2]!));
  }
  const p50 = percentiles.get('50');
  const p75 = percentiles.get('75');
  const p90 = percentiles.get('90');
  const p99 = percentiles.get('99');
  if (p50 === undefined || p75 === undefined || p90 === undefined || p99 === undefined) {
    throw new BenchError('GW_BENCH_WRK_OUTPUT', 'wrk output has no latency distribution (run wrk with --latency)');
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(totals[1]),
    durationUs: parseWrkTime(totals[2]!),
    requestsPerSec: Number(rate[1]),
    latencyUs: { p50, p75, p90, p99 },
    socketErrors: {
      connect: socket === null ? 0 : Number(socket[1]),
      read: socket === null ? 0 : Number(socket[2]),
      write: socket === null ? 0 : Number(socket[3]),
      timeout: socket === null ? 0 : Number(socket[4]),
    },
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

/** Seconds before wrk gives up on a response and counts a timeout (its default is 2 s). */
export const WRK_TIMEOUT_SEC = 10;

/**
 * The argument list for one wrk run: one thread (wrk shares a single core with the backend). The
 * timeout is raised from wrk's 2 s because wrk leaves timed-out requests out of its latencies: 1 MiB
 * responses at 64 connections on a busy machine reach 2 s, and their p99 would then be understated.
 */
export function wrkArgs(url: string, connections: number, durationSec: number): string[] {
  return ['-t1', `-c${connections}`, `-d${durationSec}s`, `--timeout`, `${WRK_TIMEOUT_SEC}s`, '--latency', url];
}
