/** Managed backend processes: start, readiness, exit classification, restarts, rolling restarts. */
export { cgroupOomKills, groupResidentBytes, OUT_OF_MEMORY_LINE } from './memory.js';
export {
  type ExitReason,
  type ExitRecord,
  ManagedProcess,
  type ProcessSnapshot,
  type ProcessState,
  type ProcessTarget,
} from './process.js';
export { type ProcessEvent, Supervisor, type SupervisorOptions } from './supervisor.js';
