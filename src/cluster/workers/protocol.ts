/**
 * The messages between a node's primary process and its workers (`serve --workers`), sent over the
 * cluster IPC channel with the `advanced` serialization (typed arrays and Buffers arrive as such).
 *
 * The primary owns every decision that must be taken once per node (health checks, drain, managed
 * processes, ejection hints, configuration); the workers own the request path and report what it
 * counted.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../../config/index.js';
import type { GatewayEvent } from '../../observe/index.js';
import type { LiveUpstream } from '../../observe/live.js';
import type { UpstreamTotals } from '../../observe/metrics.js';
import type { FailureRecord } from '../../observe/recent-failures.js';
import type { ServerStatsDump } from '../../observe/stats.js';
import type { FollowedState } from '../../resilience/index.js';

/** A server's followed state, by upstream name and then server key. */
export type FollowedStates = Record<string, Record<string, FollowedState>>;

export type Metrics = MetricObjectWithValues<MetricValue<string>>[];

export interface WorkerReport {
  pid: number;
  connections: number;
  totals: Map<string, UpstreamTotals>;
  stats: ServerStatsDump;
  live: Record<string, LiveUpstream>;
  /** Counters and histograms only (what must survive the worker: see WorkerPool). */
  counters: Metrics;
}

export type ToWorker =
  | { t: 'config'; seq: number; config: Config; state: FollowedStates; logFormat: string | undefined }
  | { t: 'state'; state: FollowedStates }
  | { t: 'metrics'; seq: number }
  | { t: 'lease'; seq: number; granted: number; waitMs: number }
  | { t: 'stop'; graceMs: number };

export type FromWorker =
  | { t: 'hello' }
  | { t: 'listening'; addresses: string[] }
  | { t: 'applied'; seq: number; error?: string }
  | { t: 'event'; event: GatewayEvent }
  | { t: 'failures'; records: FailureRecord[] }
  | { t: 'report'; report: WorkerReport }
  | { t: 'metrics'; seq: number; metrics: Metrics }
  | { t: 'lease'; seq: number; generation: number; route: number; key: string; want: number };

/** How often a worker reports its counters, statistics and live state. */
export const REPORT_EVERY_MS = 1000;
/** How long recent failures wait in a worker before being sent together. */
export const FAILURES_EVERY_MS = 50;
