/**
 * The error-log analyser doctor uses when `--error-log` is given and the caller injects none. It
 * is kept apart so that doctor depends on no analyser: plugging one in is changing this one value
 * to an adapter returning a LogAnalysis (findings with check 'log', the rendered text, data).
 */
import type { LogAnalyzer } from './types.js';

export const defaultLogAnalyzer: LogAnalyzer | undefined = undefined;
