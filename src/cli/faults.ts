import { readFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { FaultProxyError, FaultProxyServer, type ProxyOptions } from '../drill/faults/index.js';
import { CliError } from '../errors.js';

/** Toxiproxy's default control port, so its clients find this one without being told. */
const DEFAULT_CONTROL = '127.0.0.1:8474';

/**
 * `gatewise faults [--listen ADDR] [--config FILE]`: the fault-injection proxy on its own, driven
 * through its Toxiproxy-compatible control API. FILE is a JSON array of proxies, the format of
 * Toxiproxy's `-config` file and of POST /populate.
 */
export default defineCommand({
  meta: { name: 'faults', description: 'Run the fault-injection proxy (Toxiproxy-compatible control API)' },
  args: {
    listen: { type: 'string', alias: 'l', description: `control API address (default ${DEFAULT_CONTROL})` },
    config: { type: 'string', alias: 'c', description: 'JSON file of proxies to create at start' },
  },
  async run({ args }): Promise<number> {
    const proxies = args.config ? await readProxies(args.config) : [];
    let server: FaultProxyServer;
    try {
      server = await FaultProxyServer.start({ control: args.listen || DEFAULT_CONTROL, proxies });
    } catch (error) {
      if (error instanceof FaultProxyError) throw new CliError(`cannot start: ${error.message}`, 1);
      throw error;
    }
    process.stdout.write(`gatewise faults: control API on ${server.controlUrl}\n`);
    for (const proxy of server.listProxies())
      process.stdout.write(
        `  proxy ${proxy.name}: ${proxy.listen} -> ${proxy.upstream}${proxy.enabled ? '' : ' (disabled)'}\n`,
      );
    return runUntilSignal(server);
  },
});

async function readProxies(file: string): Promise<ProxyOptions[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 1);
  }
  if (!Array.isArray(parsed)) throw new CliError(`${file}: expected a JSON array of proxies`, 1);
  // Each entry is checked by the server as /populate checks it; errors name the entry.
  return parsed as ProxyOptions[];
}

/** Serves until SIGTERM/SIGINT, then closes every proxy and connection. */
function runUntilSignal(server: FaultProxyServer): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void server.close().then(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
