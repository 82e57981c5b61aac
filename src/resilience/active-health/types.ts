/** The health of one upstream server as active checks see it. */
export type HealthState = 'healthy' | 'unhealthy';

/** One upstream server to probe. */
export interface ProbeTarget {
  /** What events and logs call the server, e.g. '127.0.0.1:5001'. */
  name: string;
  kind: 'http' | 'https' | 'unix';
  /** '' for a unix socket. */
  host: string;
  /** 0 for a unix socket. */
  port: number;
  /** '' unless `kind` is 'unix'. */
  socketPath: string;
  /** For 'https': the same trust the proxy uses for this server. */
  tls?: { ca?: Buffer; servername?: string; rejectUnauthorized: boolean };
  /** Host header to send; default `host:port` of the probed address ('localhost' on a unix socket). */
  hostHeader?: string;
}

/** An inclusive range of acceptable status codes. */
export interface StatusRange {
  min: number;
  max: number;
}

/** Active health checking of one upstream, already parsed (durations in ms, jitter as a fraction). */
export interface ActiveHealthConfig {
  /** 'http': a request must pass the expectations; 'tcp': a completed connect passes. */
  type: 'http' | 'tcp';
  path: string;
  method: string;
  headers: Record<string, string>;
  /** The probe passes when the status falls in any range; empty = any 2xx or 3xx. */
  expect_status: StatusRange[];
  /** '' = no body expectation; otherwise the body (first 64 KiB) must contain it. */
  expect_body: string;
  /** The JSON body's value at a dotted `path` ("checks.db.status", "items.0"), stringified, must equal `equals`. */
  expect_json?: { path: string; equals: string };
  /** Time between the end of one probe and the start of the next, in ms. */
  interval: number;
  /** Spread of the interval as a fraction 0..0.5: each wait is interval × (1 ± jitter·random). */
  jitter: number;
  /** Bound on the whole probe (connect, TLS, head and body) in ms. */
  timeout: number;
  /** Consecutive passes that bring an unhealthy server back. */
  healthy_after: number;
  /** Consecutive failures that take a healthy server out. */
  unhealthy_after: number;
  /** The state before the first probe. */
  initial: HealthState;
  /** Port to probe instead of the server's own (a management port); 0 = the server's port. */
  port: number;
}

/** The outcome of one probe. */
export interface ProbeResult {
  ok: boolean;
  /** One line an operator understands: what was sent and what came back, or why nothing did. */
  reason: string;
  latencyMs: number;
}

/**
 * One kind of probe bound to one target. A probe owns every socket it opens and has closed them all
 * by the time its promise settles, so nothing outlives it.
 */
export interface Prober {
  /** Never rejects: every failure becomes a result. `signal` cancels the probe (its result is then discarded). */
  probe(signal: AbortSignal): Promise<ProbeResult>;
}

/** 64 KiB of body is read at most: enough for any health document, bounded for a misbehaving one. */
export const MAX_PROBE_BODY_BYTES = 64 * 1024;
