import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BenchError } from '../../bench/lib/errors.js';
import { parseWrkOutput, parseWrkTime, wrkArgs, wrkErrorCount } from '../../bench/lib/wrk.js';

// Real wrk 4.1.0 output (Debian), one run against nginx returning 200.
const OK = `Running 1s test @ http://127.0.0.1:18555/ok
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    58.78us  127.96us   3.04ms   98.47%
    Req/Sec    72.12k    14.89k   89.26k    54.55%
  Latency Distribution
     50%   40.00us
     75%   55.00us
     90%   72.00us
     99%  464.00us
  78610 requests in 1.10s, 11.17MB read
Requests/sec:  71494.12
Transfer/sec:     10.16MB
`;

// Real output against a path answering 404: wrk adds the Non-2xx line.
const NOT_FOUND = `Running 1s test @ http://127.0.0.1:18555/nope
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   121.89us  274.59us   5.42ms   98.02%
    Req/Sec    83.79k    12.66k   91.60k    90.91%
  Latency Distribution
     50%   83.00us
     75%   97.00us
     90%  121.00us
     99%    1.33ms
  91333 requests in 1.10s, 26.83MB read
  Non-2xx or 3xx responses: 91333
Requests/sec:  82977.05
Transfer/sec:     24.37MB
`;

// A slow run with socket errors, in wrk's format (src/wrk.c prints this line only when errors occurred).
const SLOW = `Running 5s test @ http://127.0.0.1:9000/1m
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.40ms  301.10ms   1.99s    70.00%
    Req/Sec    80.10     20.00   120.00     60.00%
  Latency Distribution
     50%  750.00ms
     75%    1.01s
     90%    1.50s
     99%    1.98s
  401 requests in 5.01s, 401.00MB read
  Socket errors: connect 1, read 2, write 3, timeout 17
  Non-2xx or 3xx responses: 5
Requests/sec:     80.04
Transfer/sec:     80.04MB
`;

test('parses a clean run', () => {
  const r = parseWrkOutput(OK);
  assert.equal(r.requests, 78610);
  assert.equal(r.durationUs, 1_100_000);
  assert.equal(r.requestsPerSec, 71494.12);
  assert.deepEqual(r.latencyUs, { p50: 40, p75: 55, p90: 72, p99: 464 });
  assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(r.non2xx, 0);
  assert.equal(wrkErrorCount(r), 0);
});

test('counts non-2xx responses as errors', () => {
  const r = parseWrkOutput(NOT_FOUND);
  assert.equal(r.non2xx, 91333);
  assert.equal(r.latencyUs.p99, 1330);
  assert.equal(wrkErrorCount(r), 91333);
});

test('reads socket errors and second-scale latencies', () => {
  const r = parseWrkOutput(SLOW);
  assert.deepEqual(r.socketErrors, { connect: 1, read: 2, write: 3, timeout: 17 });
  assert.equal(r.non2xx, 5);
  assert.equal(wrkErrorCount(r), 1 + 2 + 3 + 17 + 5);
  assert.deepEqual(r.latencyUs, { p50: 750_000, p75: 1_010_000, p90: 1_500_000, p99: 1_980_000 });
  assert.equal(r.durationUs, 5_010_000);
});

test('rejects output without --latency or without totals', () => {
  const withoutDistribution = OK.replace(/ {2}Latency Distribution[\s\S]*?99%\s+\S+\n/, '');
  assert.throws(
    () => parseWrkOutput(withoutDistribution),
    (err: unknown) => {
      return err instanceof BenchError && err.code === 'GW_BENCH_WRK_OUTPUT' && /--latency/.test(err.message);
    },
  );
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), BenchError);
  assert.throws(() => parseWrkOutput(OK.replace(/Requests\/sec:.*\n/, '')), /Requests\/sec/);
});

test('converts every wrk time unit', () => {
  assert.equal(parseWrkTime('12.50us'), 12.5);
  assert.equal(parseWrkTime('2.01ms'), 2010);
  assert.equal(parseWrkTime('1.00s'), 1_000_000);
  assert.equal(parseWrkTime('1.50m'), 90_000_000);
  assert.equal(parseWrkTime('1.00h'), 3_600_000_000);
  assert.throws(() => parseWrkTime('12'), BenchError);
  assert.throws(() => parseWrkTime('ms'), BenchError);
});

test('builds a one-thread wrk command with latency statistics', () => {
  assert.deepEqual(wrkArgs('http://127.0.0.1:1/small', 64, 5), [
    '-t1',
    '-c64',
    '-d5s',
    '--timeout',
    '10s',
    '--latency',
    'http://127.0.0.1:1/small',
  ]);
});
