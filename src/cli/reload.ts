import { defineCommand } from 'citty';
import { loadConfigFile } from '../config/index.js';
import { CliError } from '../errors.js';

/** `gatewise reload`: ask a running gateway (admin API) to reload its config file. */
export default defineCommand({
  meta: { name: 'reload', description: 'Ask a running gateway to reload its configuration (admin POST /api/reload)' },
  args: {
    config: { type: 'string', alias: 'c', description: 'configuration file (to find the admin address and token)' },
    admin: { type: 'string', description: 'admin address, default 127.0.0.1:9090' },
    token: { type: 'string', description: 'admin bearer token (default: $GATEWISE_ADMIN_TOKEN)' },
  },
  async run({ args }): Promise<number> {
    let address = args.admin ?? '127.0.0.1:9090';
    let token = args.token ?? process.env.GATEWISE_ADMIN_TOKEN ?? '';
    if (args.config && !args.admin) {
      const config = await loadConfigFile(args.config);
      address = config.admin.address;
      token ||= config.admin.token ?? '';
    }
    let response: Response;
    try {
      response = await fetch(`http://${address}/api/reload`, {
        method: 'POST',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the admin API at ${address}: ${(error as Error).cause ?? (error as Error).message}`,
        1,
      );
    }
    const body = (await response.json()) as { ok?: boolean; generation?: number; problems?: string[]; error?: string };
    if (response.ok && body.ok) {
      process.stdout.write(`reloaded: configuration generation ${body.generation}\n`);
      return 0;
    }
    for (const problem of body.problems ?? [body.error ?? `HTTP ${response.status}`])
      process.stderr.write(`${problem}\n`);
    process.stderr.write('reload refused: the running configuration stays\n');
    return 1;
  },
});
