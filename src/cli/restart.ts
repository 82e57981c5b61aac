import { defineCommand } from 'citty';
import { ADMIN_ARGS, adminPost, adminTarget } from './admin-client.js';

/** `gatewise restart UPSTREAM`: rolling restart of an upstream's managed servers (admin API). */
export default defineCommand({
  meta: {
    name: 'restart',
    description:
      "Restart an upstream's managed servers one at a time, each drained first (admin POST /api/upstreams/NAME/restart)",
  },
  args: {
    upstream: { type: 'positional', description: 'upstream name', required: true },
    ...ADMIN_ARGS,
  },
  async run({ args }): Promise<number> {
    const { status, body } = await adminPost<{
      ok?: boolean;
      servers?: Array<{ server: string; ok: boolean }>;
      error?: string;
    }>(await adminTarget(args), `/api/upstreams/${encodeURIComponent(args.upstream)}/restart`);
    for (const server of body.servers ?? [])
      process.stdout.write(`${server.server}: ${server.ok ? 'restarted and ready' : 'did not become ready'}\n`);
    if (status === 200 && body.ok) return 0;
    process.stderr.write(`restart of ${args.upstream} failed: ${body.error ?? `HTTP ${status}`}\n`);
    return 1;
  },
});
