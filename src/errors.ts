/**
 * The base of every error Gatewise raises itself. `code` is stable: logs, tests and the
 * classifier match on it, never on the message.
 */
export class GatewayError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem found in a configuration file, located as `file:line:col`. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`;
}

/** A configuration that cannot be used; carries every problem found, not only the first. */
export class ConfigError extends GatewayError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('GW_CONFIG_INVALID', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** An error the CLI reports in one line and turns into a process exit code. */
export class CliError extends GatewayError {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super('GW_CLI', message);
    this.exitCode = exitCode;
  }
}
