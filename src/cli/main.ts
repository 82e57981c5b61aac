/**
 * The `gatewise` command. Each subcommand is data (name, args, run) loaded lazily; a command's `run`
 * returns its exit code, and this file alone calls `process.exit`.
 */
import { type CommandDef, defineCommand, runCommand, showUsage } from 'citty';
import { CliError, GatewayError } from '../errors.js';

type Loader = () => Promise<CommandDef>;

/** The registry of commands: adding a command is adding a row. */
const COMMANDS: Record<string, Loader> = {
  serve: () => import('./serve.js').then((m) => m.default as CommandDef),
  check: () => import('./check.js').then((m) => m.default as CommandDef),
  reload: () => import('./reload.js').then((m) => m.default as CommandDef),
  status: () => import('./status.js').then((m) => m.default as CommandDef),
  alerts: () => import('./alerts.js').then((m) => m.default as CommandDef),
  restart: () => import('./restart.js').then((m) => m.default as CommandDef),
  explain: () => import('./explain.js').then((m) => m.default as CommandDef),
  doctor: () => import('./doctor.js').then((m) => m.default as CommandDef),
  faults: () => import('./faults.js').then((m) => m.default as CommandDef),
  drill: () => import('./drill.js').then((m) => m.default as CommandDef),
  config: () => import('./config.js').then((m) => m.default as CommandDef),
  cluster: () => import('./cluster.js').then((m) => m.default as CommandDef),
};

const root = defineCommand({
  meta: {
    name: 'gatewise',
    description: 'A reverse-proxy gateway that keeps 502s away from users and explains the ones it cannot.',
  },
  subCommands: COMMANDS,
});

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h') {
    await showUsage(root);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined)
    throw new CliError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`, 2);
  const command = await load();
  const rest = argv.slice(1);
  if (rest.includes('--help') || rest.includes('-h')) {
    await showUsage(command, root);
    return 0;
  }
  // citty discards a subcommand's return value, so the command is run directly.
  const { result } = await runCommand(command, { rawArgs: rest });
  return typeof result === 'number' ? result : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`gatewise: ${message}\n`);
    process.exit(error instanceof CliError ? error.exitCode : error instanceof GatewayError ? 1 : 2);
  },
);
