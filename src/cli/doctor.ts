import { access, constants } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { parseDuration } from '../config/index.js';
import {
  DEFAULT_TIMEOUT_MS,
  type DoctorModel,
  type DoctorOptions,
  DoctorUsageError,
  doctorExitCode,
  examine,
  loadDoctorModel,
  renderDoctorReport,
} from '../diagnose/doctor/index.js';
import { CliError, ConfigError, GatewayError } from '../errors.js';

/** Where doctor looks when told nothing: the Gatewise configuration here, else the system's nginx. */
const DEFAULT_GATEWISE_CONFIG = 'gatewise.yaml';
const DEFAULT_NGINX_CONFIG = '/etc/nginx/nginx.conf';

async function readable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

async function chooseSource(
  config: string | undefined,
  nginx: string | undefined,
): Promise<Pick<DoctorOptions, 'config' | 'nginx'>> {
  if (config !== undefined || nginx !== undefined) return { config, nginx };
  if (await readable(DEFAULT_GATEWISE_CONFIG)) return { config: DEFAULT_GATEWISE_CONFIG };
  if (await readable(DEFAULT_NGINX_CONFIG)) return { nginx: DEFAULT_NGINX_CONFIG };
  throw new CliError(
    `no configuration to examine: no ./${DEFAULT_GATEWISE_CONFIG} and ${DEFAULT_NGINX_CONFIG} is not readable; give --config FILE or --nginx FILE`,
    2,
  );
}

function timeoutOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new CliError(`--timeout: expected a duration like "2s" or "500ms", got "${text}"`, 2);
}

/**
 * `gatewise doctor`: automated 502 troubleshooting. Exit 0 when healthy, 1 when anything is at
 * warning or above, 2 when it cannot run (bad arguments, unreadable configuration).
 */
export default defineCommand({
  meta: {
    name: 'doctor',
    description:
      'Find why upstreams fail: config, DNS, TCP, TLS, HTTP, keep-alive, listeners, resources (exit 0 healthy, 1 problems, 2 cannot run)',
  },
  args: {
    config: { type: 'string', alias: 'c', description: 'Gatewise configuration (default ./gatewise.yaml)' },
    nginx: {
      type: 'string',
      description: 'nginx configuration, includes followed, or `nginx -T` output (default /etc/nginx/nginx.conf)',
    },
    'error-log': { type: 'string', description: 'error log to analyse' },
    json: { type: 'boolean', description: 'print the report as JSON' },
    timeout: { type: 'string', description: `limit of each probe (default ${DEFAULT_TIMEOUT_MS / 1000}s)` },
    path: { type: 'string', description: 'path requested from every server (default: the active health path, else /)' },
    only: {
      type: 'string',
      description: 'comma-separated check families to run (config,dns,tcp,unix,tls,http,keepalive,listeners,resources)',
    },
    verbose: { type: 'boolean', alias: 'v', description: 'show the evidence of passing checks too' },
  },
  async run({ args }): Promise<number> {
    const options: DoctorOptions = {
      ...(await chooseSource(args.config, args.nginx)),
      timeoutMs: timeoutOf(args.timeout),
    };
    if (args['error-log']) options.errorLog = args['error-log'];
    if (args.path) options.healthPath = args.path.startsWith('/') ? args.path : `/${args.path}`;
    if (args.only)
      options.checks = args.only
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
    let model: DoctorModel;
    try {
      model = await loadDoctorModel(options);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(`cannot read the configuration:\n${error.message}`, 2);
      if (error instanceof DoctorUsageError) throw new CliError(error.message, 2);
      if (error instanceof GatewayError) throw new CliError(error.message, 2);
      throw error;
    }
    let report: Awaited<ReturnType<typeof examine>>;
    try {
      report = await examine(model, options);
    } catch (error) {
      if (error instanceof DoctorUsageError) throw new CliError(error.message, 2);
      throw error;
    }
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(
      args.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : renderDoctorReport(report, { color, verbose: Boolean(args.verbose) }),
    );
    return doctorExitCode(report);
  },
});
