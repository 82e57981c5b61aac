/**
 * The `gatewise` command. Each subcommand is data (name, args, run) loaded lazily; a command's `run`
 * returns its exit code, and this file alone calls `process.exit`.
 */
import { defineCommand, runCommand, showUsage } from 'citty';
import { CliError, GatewayError } from '../errors.js';

const root = defineCommand({
  meta: {
    name: 'gatewise',
    description: 'A reverse-proxy gateway that keeps 502s away from users and explains the ones it cannot.',
  },
  subCommands: {
    serve: () => import('./serve.js').then((m) => m.default),
    check: () => import('./check.js').then((m) => m.default),
    reload: () => import('./reload.js').then((m) => m.default),
  },
});

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    await showUsage(root);
    return argv.length === 0 ? 1 : 0;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    const sub = await (root.subCommands as Record<string, () => Promise<Parameters<typeof showUsage>[0]>>)[
      argv[0]!
    ]?.();
    await showUsage(sub ?? root, root);
    return 0;
  }
  const { result } = await runCommand(root, { rawArgs: argv });
  return typeof result === 'number' ? result : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`gatewise: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    if (error instanceof GatewayError) {
      process.stderr.write(`gatewise: ${error.message}\n`);
      process.exit(1);
    }
    const message = error instanceof Error ? error.message : String(error);
    // citty reports unknown commands and bad arguments as plain errors.
    process.stderr.write(`gatewise: ${message}\n`);
    process.exit(2);
  },
);
