/**
 * The configuration: schema (the one source of its types and defaults), loading with positions,
 * `${ENV}` expansion, and validation that reports every problem as `file:line:col: message`.
 */

export type { HostPort, ServerTarget } from './addresses.js';
export { isLoopbackHost, parseHostPort, parseServerUrl } from './addresses.js';
export type { AlertRuleConfig, AlertsConfig, NotifierConfig, NotifierType, Severity } from './alerts.js';
export { conditionKeys, notifierTypes, severities } from './alerts.js';
export type { ClusterConfig, EtcdConfig, RedisConfig } from './cluster.js';
export { nodeIdOf } from './cluster.js';
export type { ConfigKeyDescription } from './describe.js';
export { describeConfig } from './describe.js';
export type { CheckResult, NodeFileResult } from './load.js';
export { checkConfigText, checkNodeText, loadConfigFile, NODE_KEYS, parseConfigText } from './load.js';
export { REDACTED, redactConfig, redactUrl } from './redact.js';
export type {
  ActiveHealthConfig,
  BreakerConfig,
  DnsConfig,
  ExpectJsonConfig,
  HealthCheckType,
  HealthConfig,
  HealthStateName,
  LatencyEjectionConfig,
  LimitsUpstreamConfig,
  PassiveHealthConfig,
  RateLimitConfig,
  RetriesConfig,
  RetryBackoffConfig,
  RetryBudgetConfig,
  RetryFailureName,
  RetryOn,
} from './resilience.js';
export { healthCheckTypes, healthStates, retryFailureNames } from './resilience.js';
export type {
  AdminConfig,
  BalanceName,
  Config,
  ErrorsConfig,
  HeaderRulesConfig,
  KeepaliveConfig,
  LimitsConfig,
  ListenConfig,
  ListenTlsConfig,
  LogConfig,
  LogLevel,
  ProxyConfig,
  RouteConfig,
  RouteMatchConfig,
  ServerConfig,
  ShutdownConfig,
  TimeoutsConfig,
  UpstreamConfig,
  UpstreamTlsConfig,
  WebsocketConfig,
} from './schema.js';
export { adminSchema, balanceNames, configSchema, logLevels } from './schema.js';
export type { Cidr, StatusRange } from './units.js';
export {
  formatDuration,
  MAX_DURATION_MS,
  matchesCidr,
  parseCidr,
  parseCidrs,
  parseDuration,
  parseIp,
  parsePercent,
  parseSize,
  parseStatusRange,
} from './units.js';
