import { readFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { checkConfigText } from '../config/index.js';
import { formatProblem } from '../errors.js';

/** `gatewise check --config F`: validate like `nginx -t`; every problem as file:line:col: message. */
export default defineCommand({
  meta: {
    name: 'check',
    description: 'Validate a configuration file (exit 0 when valid, 1 with file:line:col problems)',
  },
  args: { config: { type: 'string', alias: 'c', description: 'configuration file', required: true } },
  async run({ args }): Promise<number> {
    const file = args.config;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      process.stderr.write(
        `${file}:1:1: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`,
      );
      return 1;
    }
    const { problems } = checkConfigText(text, file);
    if (problems.length === 0) {
      process.stdout.write(`${file}: configuration is valid\n`);
      return 0;
    }
    for (const problem of problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
    return 1;
  },
});
