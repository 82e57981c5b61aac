/**
 * A drill suite: each scenario in a fresh sandbox (its own fault proxy, Gatewise and managed
 * backends), one after the other, with live progress; the results feed the reports and the exit code.
 */
import { FaultProxyServer } from './faults/index.js';
import { type RemoteOptions, RemoteTarget } from './remote.js';
import { DEFAULT_TIMINGS, type RunTimings, runScenario, type Scenario, type ScenarioResult } from './runner.js';
import { Sandbox } from './sandbox.js';
import { ToxiproxyClient } from './toxiproxy-client.js';

export interface DrillOptions {
  scenarios: readonly Scenario[];
  timings?: RunTimings;
  /** Live progress lines. */
  progress?: (line: string) => void;
  /** Called with each result as soon as its scenario ends. */
  done?: (result: ScenarioResult) => void;
}

export async function runDrills(options: DrillOptions): Promise<ScenarioResult[]> {
  const progress = options.progress ?? (() => {});
  const results: ScenarioResult[] = [];
  for (const [index, scenario] of options.scenarios.entries()) {
    progress(`[${index + 1}/${options.scenarios.length}] ${scenario.name}: ${scenario.title}`);
    const faults = await FaultProxyServer.start({ control: '127.0.0.1:0' });
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await Sandbox.start({
        faults: new ToxiproxyClient(faults.controlUrl!),
        ...(scenario.upstreamExtra ? { upstreamExtra: scenario.upstreamExtra } : {}),
      });
      await sandbox.ready();
      const result = await runScenario(scenario, sandbox.asTarget(), options.timings ?? DEFAULT_TIMINGS, progress);
      results.push(result);
      options.done?.(result);
    } finally {
      await sandbox?.close();
      await faults.close();
    }
  }
  return results;
}

/** Timings against a running Gatewise: its own ejection and alert times are longer than a sandbox's. */
export const REMOTE_TIMINGS: RunTimings = { warmupMs: 2000, holdMs: 10_000, recoverTimeoutMs: 90_000, rps: 20 };

/** The drills against a running Gatewise (`--target`), one after the other, the faults reset after each. */
export async function runRemoteDrills(remote: RemoteOptions, options: DrillOptions): Promise<ScenarioResult[]> {
  const progress = options.progress ?? (() => {});
  const target = await RemoteTarget.connect(remote);
  progress(
    `target ${remote.gateway}: servers behind ${target.replicas.map((r) => `${r.name} (${r.server})`).join(', ')}`,
  );
  const results: ScenarioResult[] = [];
  try {
    for (const [index, scenario] of options.scenarios.entries()) {
      progress(`[${index + 1}/${options.scenarios.length}] ${scenario.name}: ${scenario.title}`);
      try {
        const result = await runScenario(scenario, target, options.timings ?? REMOTE_TIMINGS, progress);
        results.push(result);
        options.done?.(result);
      } finally {
        await target.faults.reset();
      }
    }
  } finally {
    target.close();
  }
  return results;
}
