import { z } from 'zod';
import { duration, expected, integer, oneOf, size, text } from './fields.js';

/**
 * A managed server: `run` says how Gatewise starts the backend behind a server URL, and how it brings
 * it back. The child gets PORT (and HOST) from the server URL, so that the same command serves on
 * whatever address the config gives it.
 */

export const restartPolicies = ['always', 'on-failure', 'never'] as const;
export const stopSignals = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

export const restartBackoffSchema = z.strictObject({
  initial: duration().prefault('500ms').describe('Wait before the first restart; doubled after each.'),
  max: duration().prefault('30s').describe('Longest wait between two restarts.'),
});

export const restartSchema = z.strictObject({
  policy: oneOf(restartPolicies)
    .prefault('always')
    .describe('always: restart after any exit; on-failure: not after exit code 0; never.'),
  backoff: restartBackoffSchema.prefault({}).describe('Exponential backoff between restarts.'),
  max_restarts: integer(1)
    .prefault(5)
    .describe('More restarts than this within window is a crash loop: restarting stops and the server is failed.'),
  window: duration().prefault('1m').describe('The window max_restarts is counted over.'),
});

export const runSchema = z.strictObject({
  command: text('a command')
    .pipe(z.string().min(1, { error: 'expected a command, got ""' }))
    .describe('Program to start (looked up in PATH), without a shell.'),
  args: z.array(text()).prefault([]).describe('Its arguments.'),
  cwd: text()
    .optional()
    .describe("Working directory (relative to the config file's directory); default that directory."),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: expected('an environment variable name') }), text())
    .prefault({})
    .describe("Environment added to Gatewise's own, after PORT and HOST."),
  stop_signal: oneOf(stopSignals).prefault('SIGTERM').describe('Signal that asks the process to stop.'),
  stop_timeout: duration().prefault('10s').describe('Time to stop after stop_signal before SIGKILL.'),
  ready_timeout: duration()
    .prefault('30s')
    .describe('Longest start-up before the start counts as failed (ready = health check, or the port, answers).'),
  max_memory: size()
    .optional()
    .describe('Resident memory (the whole process group) above which the process is restarted gracefully.'),
  restart: restartSchema.prefault({}).describe('Restart policy.'),
});

export type RunConfig = z.infer<typeof runSchema>;
export type RestartPolicy = (typeof restartPolicies)[number];
