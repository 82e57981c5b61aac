import { GatewayError } from '../../src/errors.js';

/** Stable codes for what can go wrong while benchmarking (never matched on the message). */
export type BenchErrorCode =
  | 'GW_BENCH_WRK_OUTPUT'
  | 'GW_BENCH_PROC'
  | 'GW_BENCH_STUB_STATUS'
  | 'GW_BENCH_START'
  | 'GW_BENCH_CHILD';

/** An error of the benchmark harness itself (not of a target being measured). */
export class BenchError extends GatewayError {
  constructor(code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
