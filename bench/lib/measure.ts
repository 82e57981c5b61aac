import type { BenchOptions } from './args.js';
import type { Backend } from './backend.js';
import { BenchError } from './errors.js';
import { verifyTarget } from './http-check.js';
import { acceptedBetween } from './nginx.js';
import { cpuMicrosPerRequest, establishedConnectionsTo, sampleTree } from './proc.js';
import type { ProcessGroup } from './processes.js';
import type { Scenario } from './scenarios.js';
import type { RunMeasurement, TargetOutcome } from './table.js';
import { formatLatency } from './table.js';
import { type StartedTarget, TARGETS, type TargetDefinition, type TargetEnv } from './targets.js';
import { parseWrkOutput, wrkArgs, wrkErrorCount } from './wrk.js';

const LOAD_CPUS = '1';
/** wrk is killed this long after its own duration should have ended it. */
const WRK_SLACK_MS = 15_000;

/** What a scenario needs besides the targets themselves. */
export interface ScenarioContext {
  options: BenchOptions;
  group: ProcessGroup;
  backend: Backend;
  env: Omit<TargetEnv, 'connections' | 'scenarioName'>;
  clockTicksPerSec: number;
  /** Progress lines (stderr), so stdout holds only the tables. */
  log: (line: string) => void;
}

interface LiveTarget {
  definition: TargetDefinition;
  started: StartedTarget;
  outcome: TargetOutcome;
}

/** The same list started at a different place, so each target takes each position in turn. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

async function runWrk(ctx: ScenarioContext, url: string, connections: number, seconds: number): Promise<string> {
  const { stdout, stderr, exit } = await ctx.group.run('wrk', 'wrk', wrkArgs(url, connections, seconds), {
    cpus: LOAD_CPUS,
    timeoutMs: seconds * 1000 + WRK_SLACK_MS,
  });
  if (exit.code !== 0) {
    throw new BenchError('GW_BENCH_CHILD', `wrk ${url} ended with ${exit.signal ?? `code ${exit.code}`}: ${stderr}`);
  }
  return stdout;
}

/** Warm-up, then one measured wrk run with the proxy's CPU, RSS and upstream connections around it. */
async function measure(ctx: ScenarioContext, scenario: Scenario, started: StartedTarget): Promise<RunMeasurement> {
  const url = `http://127.0.0.1:${started.port}${scenario.path}`;
  await runWrk(ctx, url, scenario.connections, ctx.options.warmupSec);
  const pid = started.process?.pid;
  const statusBefore = await ctx.backend.status();
  const before = pid === undefined ? undefined : sampleTree(pid);
  const output = await runWrk(ctx, url, scenario.connections, ctx.options.durationSec);
  const after = pid === undefined ? undefined : sampleTree(pid);
  const open = pid === undefined ? undefined : establishedConnectionsTo(pid, ctx.backend.port);
  const statusAfter = await ctx.backend.status();
  const wrk = parseWrkOutput(output);
  const isProxy = before !== undefined && after !== undefined;
  return {
    requestsPerSec: wrk.requestsPerSec,
    p50Us: wrk.requests > 0 ? wrk.latencyUs.p50 : undefined,
    p99Us: wrk.requests > 0 ? wrk.latencyUs.p99 : undefined,
    requests: wrk.requests,
    errors: wrkErrorCount(wrk),
    cpuUsPerRequest: isProxy
      ? cpuMicrosPerRequest(after.cpuTicks - before.cpuTicks, ctx.clockTicksPerSec, wrk.requests)
      : undefined,
    rssBytes: isProxy ? after.rssBytes : undefined,
    newUpstreamConnections: isProxy ? acceptedBetween(statusBefore, statusAfter) : undefined,
    openUpstreamConnections: open,
  };
}

async function startAll(ctx: ScenarioContext, scenario: Scenario, outcomes: TargetOutcome[]): Promise<LiveTarget[]> {
  const env: TargetEnv = { ...ctx.env, scenarioName: scenario.name, connections: scenario.connections };
  const expected = ctx.backend.bodies.get(scenario.path)!;
  const live: LiveTarget[] = [];
  for (const definition of TARGETS.filter((t) => ctx.options.targets.includes(t.name))) {
    if (ctx.group.closed) break;
    const outcome: TargetOutcome = { name: definition.name, label: definition.label, runs: [], problem: undefined };
    outcomes.push(outcome);
    outcome.problem = definition.unavailable?.(env);
    if (outcome.problem !== undefined) continue;
    let started: StartedTarget;
    try {
      started = await definition.start(env);
    } catch (err) {
      outcome.problem = `failed to start: ${(err as Error).message}`;
      continue;
    }
    const problem = await verifyTarget(`http://127.0.0.1:${started.port}${scenario.path}`, expected);
    if (problem !== undefined) {
      outcome.problem = `not measured: ${problem}`;
      if (started.process !== undefined) await ctx.group.stop(started.process);
      continue;
    }
    live.push({ definition, started, outcome });
  }
  return live;
}

/** Starts the chosen targets for a scenario, measures them interleaved, stops them. */
export async function runScenario(ctx: ScenarioContext, scenario: Scenario): Promise<TargetOutcome[]> {
  const outcomes: TargetOutcome[] = [];
  const live = await startAll(ctx, scenario, outcomes);
  try {
    for (let run = 0; run < ctx.options.runs && !ctx.group.closed; run++) {
      for (const target of rotate(live, run)) {
        if (ctx.group.closed) break;
        const proxy = target.started.process;
        if (proxy !== undefined && !proxy.running) {
          target.outcome.problem ??= `${proxy.describeExit()} before run ${run + 1}`;
          continue;
        }
        let m: RunMeasurement;
        try {
          m = await measure(ctx, scenario, target.started);
        } catch (err) {
          // One target failing (wrk refused, the proxy crashed) must not end the others' runs.
          if (!(err instanceof BenchError)) throw err;
          if (ctx.group.closed) break; // Interrupted: wrk was stopped, not the target's fault.
          target.outcome.problem ??= `run ${run + 1}: ${err.message}`;
          ctx.log(`[${scenario.name} ${run + 1}/${ctx.options.runs}] ${target.definition.label}: ${err.message}`);
          continue;
        }
        target.outcome.runs.push(m);
        if (m.requests === 0) {
          // A proxy that stops answering (stuck upstream sockets, say) completes nothing and may not
          // even produce timeouts in wrk's counts; the run still counts as 0 req/s.
          target.outcome.problem ??= `run ${run + 1}: no request completed in ${ctx.options.durationSec} s`;
        }
        const cpu = m.cpuUsPerRequest === undefined ? '' : `, ${m.cpuUsPerRequest.toFixed(1)} µs/req`;
        ctx.log(
          `[${scenario.name} ${run + 1}/${ctx.options.runs}] ${target.definition.label}: ` +
            `${Math.round(m.requestsPerSec)} req/s, p99 ${formatLatency(m.p99Us)}${cpu}, errors ${m.errors}`,
        );
      }
    }
  } finally {
    await Promise.all(
      live.map((t) => (t.started.process === undefined ? undefined : ctx.group.stop(t.started.process))),
    );
  }
  return outcomes;
}
