import { loadConfigFile } from '../config/index.js';
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
    const config = await loadConfigFile(args.config);
    address = config.admin.address;
    token ||= config.admin.token ?? '';
  }
  return { address, token };
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
