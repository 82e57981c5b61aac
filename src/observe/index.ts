export { LogObserver } from './access-log.js';
export { AlertEngine, prometheusRules, registerAlertMetrics } from './alerts/index.js';
export { EventBus, type EventKind, type GatewayEvent, type Stamped } from './events.js';
export { FanOut } from './fanout.js';
export { createLogs, type LogFormat, type LogOptions, type Logs } from './log.js';
export { registerProcessMetrics } from './metrics/processes.js';
export { Metrics } from './metrics.js';
