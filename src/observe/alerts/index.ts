/** Alert rules, their evaluation and state, notifiers, and the Prometheus export. */
export {
  type ActiveAlert,
  AlertEngine,
  type AlertEngineOptions,
  type AlertState,
  type AlertTransition,
  fingerprint,
} from './engine.js';
export { registerAlertMetrics } from './metrics.js';
export {
  type AlertMessage,
  alertmanagerUrl,
  Notifier,
  type NotifierStats,
  slackMessage,
  webhookMessage,
} from './notify.js';
export { prometheusRules } from './prometheus.js';
export { DEFAULT_RULES, effectiveRules, evaluateRule, histogramQuantile } from './rules.js';
export { expandTemplate, humanize, humanizeDuration } from './template.js';
