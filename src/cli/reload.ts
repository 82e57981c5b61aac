import { defineCommand } from 'citty';
import { ADMIN_ARGS, adminPost, adminTarget } from './admin-client.js';

/** `gatewise reload`: ask a running gateway (admin API) to reload its config file. */
export default defineCommand({
  meta: { name: 'reload', description: 'Ask a running gateway to reload its configuration (admin POST /api/reload)' },
  args: ADMIN_ARGS,
  async run({ args }): Promise<number> {
    const { status, body } = await adminPost<{
      ok?: boolean;
      generation?: number;
      problems?: string[];
      error?: string;
    }>(await adminTarget(args), '/api/reload');
    if (status === 200 && body.ok) {
      process.stdout.write(`reloaded: configuration generation ${body.generation}\n`);
      return 0;
    }
    for (const problem of body.problems ?? [body.error ?? `HTTP ${status}`]) process.stderr.write(`${problem}\n`);
    process.stderr.write('reload refused: the running configuration stays\n');
    return 1;
  },
});
