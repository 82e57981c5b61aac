import { writeFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { loadConfigFile } from '../config/index.js';
import { CliError } from '../errors.js';
import { prometheusRules } from '../observe/index.js';

const exportCommand = defineCommand({
  meta: {
    name: 'export',
    description: 'Write the alert rules (built-in and configured) as a Prometheus alerting-rules file',
  },
  args: {
    config: { type: 'string', alias: 'c', description: 'configuration file', required: true },
    prometheus: { type: 'boolean', description: 'Prometheus rules format (the one format there is)', required: true },
    output: { type: 'string', alias: 'o', description: 'write to this file instead of standard output' },
  },
  async run({ args }): Promise<number> {
    if (!args.prometheus) throw new CliError('say which format: --prometheus', 2);
    const text = prometheusRules(await loadConfigFile(args.config));
    if (args.output) {
      await writeFile(args.output, text);
      process.stderr.write(`${args.output}: Prometheus alerting rules written\n`);
    } else process.stdout.write(text);
    return 0;
  },
});

/** `gatewise alerts export --prometheus`: alert rules for teams that alert from Prometheus. */
export default defineCommand({
  meta: { name: 'alerts', description: 'Alert rules: export them for Prometheus' },
  subCommands: { export: exportCommand },
});
