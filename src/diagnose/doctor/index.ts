/**
 * `gatewise doctor`: reads a Gatewise or nginx configuration into one neutral model of upstream
 * targets, probes every target (DNS, TCP, TLS both ways, an HTTP request, keep-alive, unix sockets),
 * maps who listens where from /proc, looks at the host's resources, and ranks what it finds
 * critical → ok, each finding with evidence, a root cause of the taxonomy and a fix.
 */
export { type CheckContext, DOCTOR_CHECKS, type DoctorCheck } from './checks/index.js';
export { gatewiseModel, loadGatewiseModel } from './gatewise-model.js';
export { defaultLogAnalyzer } from './log.js';
export type {
  DoctorModel,
  DoctorTarget,
  ListenAddress,
  ServerAddress,
  TargetProtocol,
  TcpServer,
  TlsSettings,
  UnixServer,
  Where,
} from './model.js';
export { loadNginxModel, nginxModel } from './nginx/model.js';
export { type Directive, loadNginxConfig, type NginxConfig, parseNginxText, splitNginxDump } from './nginx/parse.js';
export { type Token, tokenize } from './nginx/tokenize.js';
export { parseNginxSize, parseNginxTime } from './nginx/units.js';
export { type RenderDoctorOptions, renderDoctorReport } from './render.js';
export {
  DEFAULT_TIMEOUT_MS,
  DoctorUsageError,
  doctorExitCode,
  examine,
  loadDoctorModel,
  runDoctor,
  sortFindings,
} from './run.js';
export {
  decodeProcAddress,
  readSocketTable,
  type SocketTable,
  type TcpListener,
  type UnixListener,
} from './system/sockets.js';
export {
  type DoctorFinding,
  type DoctorOptions,
  type DoctorReport,
  type DoctorTargetSummary,
  type LogAnalysis,
  type LogAnalyzer,
  type NotChecked,
  SEVERITIES,
  type Severity,
} from './types.js';
