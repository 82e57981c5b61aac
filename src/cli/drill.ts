import { writeFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { renderChecks, renderHtml, renderSummary } from '../drill/report.js';
import type { ScenarioResult } from '../drill/runner.js';
import { pickScenarios, SCENARIOS } from '../drill/scenarios.js';
import { CliError } from '../errors.js';

/**
 * `gatewise drill`: rehearse each 502 scenario in a sandbox on loopback (Gatewise, managed demo
 * backends, the fault proxy) and verify failover, classification, alerts and recovery. Exit 1 when an
 * expectation fails, so that a drill can gate a deploy.
 */
export default defineCommand({
  meta: {
    name: 'drill',
    description: 'Rehearse every 502 scenario in a sandbox and verify the defences (exit 1 on a failed expectation)',
  },
  args: {
    scenario: {
      type: 'string',
      alias: 's',
      description: `scenarios, comma-separated (default all: ${SCENARIOS.map((s) => s.name).join(', ')})`,
    },
    short: { type: 'boolean', description: 'only the short suite (the one npm test runs)' },
    json: { type: 'boolean', description: 'print the results as JSON' },
    html: {
      type: 'string',
      description: 'write a self-contained HTML report with a timeline per scenario to this file',
    },
    list: { type: 'boolean', description: 'list the scenarios and exit' },
    target: { type: 'string', description: 'drill a running Gatewise: its admin API (http://host:9090)' },
    gateway: { type: 'string', description: 'with --target: the gateway URL the load goes to (http://host:8080)' },
    faults: {
      type: 'string',
      description: 'with --target: the fault proxy in front of its servers (Toxiproxy API, http://host:8474)',
    },
    token: { type: 'string', description: 'with --target: admin bearer token (default: $GATEWISE_ADMIN_TOKEN)' },
    alert: { type: 'string', description: 'with --target: the alert that must fire (default: any)' },
  },
  async run({ args }): Promise<number> {
    if (args.list) {
      for (const s of SCENARIOS)
        process.stdout.write(`${s.name.padEnd(28)} ${s.cause.padEnd(24)} ${s.title}${s.short ? ' (short)' : ''}\n`);
      return 0;
    }
    const names = (args.scenario ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const remote = args.target !== undefined;
    if (remote && (args.gateway === undefined || args.faults === undefined))
      throw new CliError('--target needs --gateway (the URL to load) and --faults (the fault proxy API)', 2);
    let scenarios: ReturnType<typeof pickScenarios>;
    try {
      scenarios = pickScenarios(names, Boolean(args.short), remote);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !args.json;
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const { runDrills, runRemoteDrills } = await import('../drill/drill.js');
    const done = (result: ScenarioResult) => process.stderr.write(renderChecks(result, color));
    const results = remote
      ? await runRemoteDrills(
          {
            admin: args.target!,
            gateway: args.gateway!,
            faults: args.faults!,
            token: args.token ?? process.env.GATEWISE_ADMIN_TOKEN ?? '',
            ...(args.alert ? { alert: args.alert } : {}),
          },
          { scenarios, progress: log, done },
        )
      : await runDrills({ scenarios, progress: log, done });
    if (args.html) {
      await writeFile(args.html, renderHtml(results, new Date()));
      log(`HTML report written to ${args.html}`);
    }
    process.stdout.write(args.json ? `${JSON.stringify(results, null, 2)}\n` : `\n${renderSummary(results, color)}`);
    return results.every((r) => r.passed) ? 0 : 1;
  },
});
