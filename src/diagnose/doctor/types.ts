import type { RootCause } from '../taxonomy.js';
import type { DoctorModel } from './model.js';

/** Worst first; the order findings are ranked in and the exit code is read from. */
export const SEVERITIES = ['critical', 'warning', 'info', 'ok'] as const;

export type Severity = (typeof SEVERITIES)[number];

/** One thing `gatewise doctor` found, with what it saw, why it matters and what to do. */
export interface DoctorFinding {
  severity: Severity;
  /** The check family that found it: config, dns, tcp, tls, http, keepalive, unix, listeners, resources, log. */
  check: string;
  /** The upstream and server it is about ("api: 127.0.0.1:5000"), when it is about one. */
  target?: string;
  /** One line: what is wrong (or right). */
  title: string;
  /** What was seen: config lines with file:line, probe results with timings, kernel counters. */
  evidence: string[];
  /** The root cause of the taxonomy this leads to (as named by explain, logs and metrics). */
  cause?: RootCause;
  /** A concrete thing to do; the cause's hint when nothing more specific is known. */
  fix?: string;
}

/** Something doctor could not look at, and why (permissions, platform, protocol). */
export interface NotChecked {
  check: string;
  what: string;
  why: string;
}

/**
 * What a log analyser hands back to doctor: findings merged into the ranking (check `log`), and a
 * section for people and for `--json` readers.
 */
export interface LogAnalysis {
  file: string;
  findings: DoctorFinding[];
  /** Rendered text, printed under "Error log" in the human report. */
  text?: string;
  /** Anything the analyser wants `--json` readers to have (counts by cause, samples...). */
  data?: unknown;
  notChecked?: NotChecked[];
}

/** Analyses an error log; injected into runDoctor so that the doctor does not depend on the analyser. */
export type LogAnalyzer = (file: string, context: { model: DoctorModel; timeoutMs: number }) => Promise<LogAnalysis>;

export interface DoctorOptions {
  /** A Gatewise YAML configuration. */
  config?: string;
  /** An nginx configuration (its includes are followed), or the output of `nginx -T`. */
  nginx?: string;
  /** An error log to analyse. */
  errorLog?: string;
  /** The analyser of `errorLog`; default `defaultLogAnalyzer` (log.ts). */
  analyzeLog?: LogAnalyzer;
  /** Limit of every single probe (connect, handshake, request), default 2000 ms. */
  timeoutMs?: number;
  /** Path requested from every upstream server; default the active health path (Gatewise), else `/`. */
  healthPath?: string;
  /** Probes in flight at once, default 16. */
  concurrency?: number;
  /** Only these check families (names of DOCTOR_CHECKS); default all. */
  checks?: readonly string[];
  /** Where /proc and /sys are read from, for tests of the readers; default `/`. */
  root?: string;
}

export interface DoctorTargetSummary {
  upstream: string;
  protocol: string;
  servers: string[];
  used_by: string[];
}

export interface DoctorReport {
  /** Bumped when a field changes meaning; fields are only ever added. */
  version: 1;
  source: { kind: 'nginx' | 'gatewise'; file: string; files: string[] };
  status: 'healthy' | 'warning' | 'critical';
  summary: Record<Severity, number>;
  /** The upstream targets the configuration names, as checked. */
  targets: DoctorTargetSummary[];
  /** Ranked critical → ok; within a severity by check family, then target. */
  findings: DoctorFinding[];
  not_checked: NotChecked[];
  /** Present when an error log was analysed. */
  log_analysis?: { file: string; text?: string; data?: unknown };
  duration_ms: number;
}
