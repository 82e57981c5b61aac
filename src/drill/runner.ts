/**
 * Runs one drill scenario against its target (a fresh sandbox, or a running Gatewise): steady load, warm-up, inject, hold, remove, wait for
 * recovery; then the verdict — client-visible errors against the expectation, the failures classified
 * as expected, time to detect, the alert fired and resolved, time to recover — and the timeline the
 * reports draw.
 */
import type { RootCause } from '../diagnose/index.js';
import { isClientError, type Sample, SteadyLoad } from './load.js';
import type { FailurePoint, RecordedEvent, Replica, Sandbox } from './sandbox.js';
import type { ToxiproxyClient } from './toxiproxy-client.js';

/** What a drill runs against: a sandbox of its own, or a running Gatewise (`--target`). */
export interface DrillTarget {
  readonly gatewayOrigin: string;
  readonly faults: ToxiproxyClient;
  /** The servers behind fault proxies (proxy name, server address as the gateway names it). */
  readonly replicas: readonly Replica[];
  readonly events: readonly RecordedEvent[];
  readonly failures: readonly FailurePoint[];
  allAvailable(): boolean;
  /** The read timeout of the drilled upstream (slow-backend faults go beyond it). */
  readonly readTimeoutMs: number;
  /** Set in a sandbox: scenarios that reload the config or signal processes need it. */
  readonly sandbox?: Sandbox;
  /** The alert that must fire: a name, or '*' for any (a target's own rules). */
  readonly alertOverride?: string;
}

export interface ScenarioContext {
  target: DrillTarget;
  load: SteadyLoad;
  /** Things a scenario started (servers, listeners) and must close at the end. */
  cleanup: Array<() => Promise<void> | void>;
  /** Notes for the report (what was injected, extra measurements). */
  notes: string[];
}

export interface Expectation {
  /** Client-visible errors: none at all (a healthy replica exists), or some (every replica is hit). */
  clientErrors: 'none' | 'some';
  /**
   * At least one failed try of one of these (type/cause; type may be '*'). Empty when the defence may
   * leave no failed try at all (a managed process whose exit closes its gate first): the scenario's
   * own checks then say how the fault was classified.
   */
  failures: ReadonlyArray<{ type: string; cause: RootCause }>;
  /** The event that shows the gateway noticed (ejection, health change, process exit...). */
  detected?: (event: RecordedEvent['event']) => boolean;
  /** An alert that must fire during the fault and resolve after it. */
  alert?: string;
}

export interface Scenario {
  name: string;
  cause: RootCause;
  title: string;
  /** Part of the short suite (`npm test`, `--short`). */
  short?: boolean;
  /** Reloads the sandbox's config or signals its processes: not for `--target`. */
  sandboxOnly?: boolean;
  /** Requests per second of the steady load, when the scenario needs another rate. */
  rps?: number;
  /** How long the fault holds, when the scenario needs another time. */
  holdMs?: number;
  /** Extra upstream keys of the sandbox config (limits for overload). */
  upstreamExtra?: string;
  expect: Expectation;
  inject(ctx: ScenarioContext): Promise<void>;
  /** Extra work while the fault holds (a burst). */
  during?(ctx: ScenarioContext): Promise<void>;
  remove(ctx: ScenarioContext): Promise<void>;
  /** Back to normal (default: every server available again). */
  recovered?(ctx: ScenarioContext): boolean;
  /**
   * For a fault that heals itself (a killed process restarted): when it recovered, ms since the epoch;
   * the recovery time is then counted from the injection.
   */
  recoveredAt?(ctx: ScenarioContext): number | null;
  /** Extra checks of the scenario's own (overload: Retry-After, bounded latency). */
  verify?(ctx: ScenarioContext, window: { injectMs: number; removeMs: number }): Check[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface TimelineBucket {
  /** ms since the scenario started. */
  t: number;
  ok: number;
  errors: number;
  /** Failed tries by root cause in the bucket. */
  byCause: Record<string, number>;
}

export interface TimelineMark {
  t: number;
  kind: 'fault' | 'detect' | 'alert' | 'removed' | 'recovered' | 'event';
  label: string;
}

export interface ScenarioResult {
  name: string;
  cause: RootCause;
  title: string;
  passed: boolean;
  checks: Check[];
  requests: number;
  clientErrors: number;
  detectMs: number | null;
  alertFiredMs: number | null;
  alertResolvedMs: number | null;
  recoverMs: number | null;
  /** Failed tries during the drill by `type/cause`. */
  failures: Record<string, number>;
  notes: string[];
  timeline: { bucketMs: number; durationMs: number; buckets: TimelineBucket[]; marks: TimelineMark[] };
}

export interface RunTimings {
  warmupMs: number;
  holdMs: number;
  recoverTimeoutMs: number;
  rps: number;
}

export const DEFAULT_TIMINGS: RunTimings = { warmupMs: 1000, holdMs: 3000, recoverTimeoutMs: 12_000, rps: 40 };

const BUCKET_MS = 250;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runScenario(
  scenario: Scenario,
  target: DrillTarget,
  timings: RunTimings = DEFAULT_TIMINGS,
  progress: (line: string) => void = () => {},
): Promise<ScenarioResult> {
  const load = new SteadyLoad(target.gatewayOrigin, { rps: scenario.rps ?? timings.rps, concurrency: 8, path: '/' });
  const ctx: ScenarioContext = { target, load, cleanup: [], notes: [] };
  const startMs = Date.now();
  const marks: TimelineMark[] = [];
  const mark = (kind: TimelineMark['kind'], label: string, atMs = Date.now()) =>
    marks.push({ t: atMs - startMs, kind, label });
  let injectMs = 0;
  let removeMs = 0;
  let recoveredAt: number | null = null;
  try {
    load.start();
    await delay(timings.warmupMs);
    injectMs = Date.now();
    progress(`  inject: ${scenario.title}`);
    await scenario.inject(ctx);
    mark('fault', 'fault injected', injectMs);
    const hold = delay(scenario.holdMs ?? timings.holdMs);
    if (scenario.during) await scenario.during(ctx);
    await hold;
    removeMs = Date.now();
    progress('  remove the fault, wait for recovery');
    await scenario.remove(ctx);
    mark('removed', 'fault removed', removeMs);
    const recovered = scenario.recovered ?? (() => target.allAvailable());
    const deadline = Date.now() + timings.recoverTimeoutMs;
    const alertName = expectedAlert(scenario, target);
    while (Date.now() < deadline) {
      const alertDone = alertName === undefined || alertResolved(target.events, alertName, injectMs);
      if (recoveredAt === null && recovered(ctx)) recoveredAt = Date.now();
      if (recoveredAt !== null && alertDone) break;
      await delay(50);
    }
    if (recoveredAt !== null) mark('recovered', 'recovered', recoveredAt);
    await delay(500);
  } finally {
    await load.stop();
    for (const close of ctx.cleanup.reverse()) await close();
  }
  return verdict(scenario, ctx, { startMs, injectMs, removeMs, recoveredAt, marks });
}

function alertEvents(events: readonly RecordedEvent[], name: string, state: string, afterMs: number): RecordedEvent[] {
  return events.filter(
    (e) =>
      e.atMs >= afterMs &&
      e.event.kind === 'alert' &&
      (name === '*' || e.event.name === name) &&
      e.event.state === state,
  );
}

/** The alert a scenario expects: its own, or the target's choice when drilling a running Gatewise. */
function expectedAlert(scenario: Scenario, target: DrillTarget): string | undefined {
  if (scenario.expect.alert === undefined) return undefined;
  return target.alertOverride ?? scenario.expect.alert;
}

/** Whether the alert fired after `afterMs` and its last transition is a resolution. */
function alertResolved(events: readonly RecordedEvent[], name: string, afterMs: number): boolean {
  const last = events.filter(
    (e) =>
      e.atMs >= afterMs &&
      e.event.kind === 'alert' &&
      (name === '*' || e.event.name === name) &&
      e.event.state !== 'pending',
  );
  const final = last[last.length - 1]?.event;
  return final?.kind === 'alert' && final.state === 'resolved';
}

function verdict(
  scenario: Scenario,
  ctx: ScenarioContext,
  run: { startMs: number; injectMs: number; removeMs: number; recoveredAt: number | null; marks: TimelineMark[] },
): ScenarioResult {
  const { target, load } = ctx;
  const { startMs, injectMs, removeMs, recoveredAt, marks } = run;
  const samples = load.samples;
  const clientErrors = samples.filter(isClientError);
  const checks: Check[] = [];
  const expect = scenario.expect;

  const errorDetail = summarizeErrors(clientErrors);
  checks.push(
    expect.clientErrors === 'none'
      ? {
          name: 'no client-visible error',
          ok: clientErrors.length === 0,
          detail: `${clientErrors.length} of ${samples.length} requests failed${errorDetail}`,
        }
      : {
          name: 'client errors while every replica is hit',
          ok: clientErrors.length > 0,
          detail: `${clientErrors.length} of ${samples.length} requests failed${errorDetail}`,
        },
  );

  const failures = failureDelta(target, injectMs);
  const seenText =
    Object.entries(failures)
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ') || 'no failed try';
  if (expect.failures.length > 0) {
    const wanted = expect.failures.map((f) => `${f.type}/${f.cause}`);
    const seen = Object.keys(failures).filter((key) =>
      expect.failures.some((f) => key === `${f.type}/${f.cause}` || (f.type === '*' && key.endsWith(`/${f.cause}`))),
    );
    checks.push({
      name: 'failures classified as expected',
      ok: seen.length > 0,
      detail: `expected ${wanted.join(' or ')}; seen ${seenText}`,
    });
  } else ctx.notes.push(`failed tries: ${seenText}`);

  let detectMs: number | null = null;
  if (expect.detected) {
    const found = target.events.find((e) => e.atMs >= injectMs && expect.detected!(e.event));
    detectMs = found ? found.atMs - injectMs : null;
    if (found) marks.push({ t: found.atMs - startMs, kind: 'detect', label: `detected: ${describe(found.event)}` });
    checks.push({
      name: 'the gateway noticed',
      ok: found !== undefined,
      detail: found ? `${describe(found.event)} after ${detectMs} ms` : 'no detection event',
    });
  }

  let alertFiredMs: number | null = null;
  let alertResolvedMs: number | null = null;
  const alertName = expectedAlert(scenario, target);
  if (alertName !== undefined) {
    const fired = alertEvents(target.events, alertName, 'firing', injectMs)[0];
    // The alert may resolve and fire again while the fault holds (an ejection running out): what
    // counts is that it fired, and that its last state is resolved.
    const transitions = target.events.filter(
      (e) =>
        e.atMs >= injectMs &&
        e.event.kind === 'alert' &&
        (alertName === '*' || e.event.name === alertName) &&
        (e.event.state === 'firing' || e.event.state === 'resolved'),
    );
    const last = transitions[transitions.length - 1];
    const resolved =
      last !== undefined && last.event.kind === 'alert' && last.event.state === 'resolved' ? last : undefined;
    alertFiredMs = fired ? fired.atMs - injectMs : null;
    alertResolvedMs = resolved && removeMs ? Math.max(0, resolved.atMs - removeMs) : null;
    for (const t of transitions)
      if (t.event.kind === 'alert')
        marks.push({ t: t.atMs - startMs, kind: 'alert', label: `alert ${t.event.name} ${t.event.state}` });
    checks.push({
      name: `alert ${alertName === '*' ? '(any)' : alertName} fired and resolved`,
      ok: fired !== undefined && resolved !== undefined,
      detail: fired
        ? `fired ${alertFiredMs} ms after the fault; ${
            resolved
              ? resolved.atMs >= removeMs
                ? `resolved ${alertResolvedMs} ms after it was removed`
                : 'resolved before it was removed and stayed resolved'
              : 'still firing'
          }`
        : 'never fired',
    });
  }

  const healedAt = scenario.recoveredAt?.(ctx) ?? null;
  const recoverMs =
    healedAt !== null ? healedAt - injectMs : recoveredAt !== null && removeMs ? recoveredAt - removeMs : null;
  checks.push({
    name: 'recovered after the fault',
    ok: recoveredAt !== null,
    detail:
      recoveredAt === null
        ? 'not recovered in time'
        : healedAt !== null
          ? `${recoverMs} ms after the fault (healed by itself)`
          : `${recoverMs} ms after removal`,
  });
  if (healedAt !== null) marks.push({ t: healedAt - startMs, kind: 'recovered', label: 'healed' });
  if (scenario.verify) checks.push(...scenario.verify(ctx, { injectMs, removeMs }));

  for (const e of target.events) {
    if (e.atMs < startMs) continue;
    const k = e.event.kind;
    if (k === 'ejected' || k === 'restored' || k === 'health' || k === 'process' || k === 'breaker')
      marks.push({ t: e.atMs - startMs, kind: 'event', label: describe(e.event) });
  }
  marks.sort((a, b) => a.t - b.t);
  const durationMs = Math.max(...samples.map((s) => s.atMs + s.durationMs), Date.now()) - startMs;
  return {
    name: scenario.name,
    cause: scenario.cause,
    title: scenario.title,
    passed: checks.every((c) => c.ok),
    checks,
    requests: samples.length,
    clientErrors: clientErrors.length,
    detectMs,
    alertFiredMs,
    alertResolvedMs,
    recoverMs,
    failures,
    notes: ctx.notes,
    timeline: { bucketMs: BUCKET_MS, durationMs, buckets: buckets(samples, target, startMs, durationMs), marks },
  };
}

function summarizeErrors(errors: readonly Sample[]): string {
  if (errors.length === 0) return '';
  const kinds = new Map<string, number>();
  for (const e of errors) {
    const key = e.clientError ?? `${e.status}${e.errorType ? ` ${e.errorType}` : ''}`;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  return ` (${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')})`;
}

/** Failed tries from the injection on, by type/cause. */
function failureDelta(target: DrillTarget, fromMs: number): Record<string, number> {
  const points = target.failures;
  const before = [...points].reverse().find((p) => p.atMs <= fromMs)?.totals ?? {};
  const last = points[points.length - 1]?.totals ?? {};
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(last)) {
    const delta = n - (before[key] ?? 0);
    if (delta > 0) out[key] = delta;
  }
  return out;
}

function buckets(
  samples: readonly Sample[],
  target: DrillTarget,
  startMs: number,
  durationMs: number,
): TimelineBucket[] {
  const count = Math.ceil(durationMs / BUCKET_MS);
  const out: TimelineBucket[] = Array.from({ length: count }, (_, i) => ({
    t: i * BUCKET_MS,
    ok: 0,
    errors: 0,
    byCause: {},
  }));
  for (const s of samples) {
    const b = out[Math.floor((s.atMs - startMs) / BUCKET_MS)];
    if (b === undefined) continue;
    if (isClientError(s)) b.errors++;
    else b.ok++;
  }
  // Failed tries per bucket: differences of the sampled totals, attributed by cause.
  let previous: Record<string, number> | undefined;
  for (const point of target.failures) {
    if (point.atMs < startMs) {
      previous = point.totals;
      continue;
    }
    const b = out[Math.floor((point.atMs - startMs) / BUCKET_MS)];
    for (const [key, n] of Object.entries(point.totals)) {
      const delta = n - (previous?.[key] ?? 0);
      if (delta > 0 && b !== undefined) {
        const cause = key.slice(key.indexOf('/') + 1);
        b.byCause[cause] = (b.byCause[cause] ?? 0) + delta;
      }
    }
    previous = point.totals;
  }
  return out;
}

function describe(event: RecordedEvent['event']): string {
  switch (event.kind) {
    case 'ejected':
      return `${event.server} ejected (${event.reason})`;
    case 'restored':
      return `${event.server} restored`;
    case 'health':
      return `${event.server} ${event.to}`;
    case 'process':
      return `process ${event.server} ${event.state}${event.exit ? ` (${event.exit.reason})` : ''}`;
    case 'breaker':
      return `${event.server} breaker ${event.to}`;
    case 'alert':
      return `alert ${event.name} ${event.state}`;
    default:
      return event.kind;
  }
}
