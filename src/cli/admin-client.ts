import { readFile } from 'node:fs/promises';
import { adminSchema, checkNodeText, loadConfigFile } from '../config/index.js';
import { CliError } from '../errors.js';

/** The arguments every command that talks to a running gateway takes. */
export const ADMIN_ARGS = {
  config: { type: 'string', alias: 'c', description: 'configuration file (to find the admin address and token)' },
  admin: { type: 'string', description: 'admin address, default 127.0.0.1:9090' },
  token: { type: 'string', description: 'admin bearer token (default: $GATEWISE_ADMIN_TOKEN)' },
} as const;

export interface AdminTarget {
  address: string;
  token: string;
}

/** The admin address and token: --admin/--token, else the config file's, else the defaults. */
export async function adminTarget(args: { config?: string; admin?: string; token?: string }): Promise<AdminTarget> {
  let address = args.admin ?? '127.0.0.1:9090';
  let token = args.token ?? process.env.GATEWISE_ADMIN_TOKEN ?? '';
  if (args.config && !args.admin) {
    const admin = await adminOf(args.config);
    address = admin.address;
    token ||= admin.token ?? '';
  }
  return { address, token };
}

/** The admin section of a whole config file, or of a cluster node's own file (no upstreams of its own). */
async function adminOf(file: string): Promise<{ address: string; token?: string | undefined }> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const node = text === undefined ? undefined : checkNodeText(text, file);
  if (node?.raw !== undefined && !/^upstreams:/m.test(text!)) return adminSchema.parse(node.raw.admin ?? {});
  return (await loadConfigFile(file)).admin;
}

/** A POST to the admin API; its JSON answer. An unreachable gateway is a CliError (exit 1). */
export async function adminPost<T>(target: AdminTarget, path: string): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetch(`http://${target.address}${path}`, {
      method: 'POST',
      headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
    });
  } catch (error) {
    throw new CliError(
      `cannot reach the admin API at ${target.address}: ${(error as Error).cause ?? (error as Error).message}`,
      1,
    );
  }
  return { status: response.status, body: (await response.json()) as T };
}
