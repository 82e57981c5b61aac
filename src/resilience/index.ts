/**
 * The resilience state machines of the request path: passive health (outlier ejection), circuit
 * breakers, retry policy and budget, admission queue, rate limiter and slow start. Each is driven by the
 * time its caller passes in and reports every transition as a ResilienceEvent.
 */

export type { ActiveHealthConfig, HealthState, HealthTransition, ProbeTarget } from './active-health.js';
export { type BreakerOptions, CircuitBreaker } from './breaker.js';
export { ResilienceConfigError } from './errors.js';
export {
  type BreakerEvent,
  type BreakerReason,
  type BreakerState,
  type EjectedEvent,
  type EjectionSkippedEvent,
  type EventSink,
  IGNORE_EVENTS,
  type RecoveredEvent,
  type ResilienceEvent,
  type RestoredEvent,
  type ServerHealthState,
} from './events.js';
export { type FollowedState, type GuardEvent, type ServerGuard, UpstreamGuard } from './guard.js';
export { OutlierDetector, type PassiveHealthOptions, p99Above } from './passive-health.js';
export { AdmissionQueue, type AdmissionQueueOptions } from './queue.js';
export { DEFAULT_MAX_KEYS, RateLimiter, type RateLimitOptions, type RouteRateLimiter } from './rate-limit.js';
export {
  RETRY_ON_FAILURES,
  RetryBudget,
  type RetryBudgetOptions,
  type RetryOnToken,
  RetryPolicy,
  type RetryPolicyOptions,
} from './retry.js';
export { effectiveWeight, SLOW_START_INITIAL_FRACTION } from './slow-start.js';
export type { TimeSource } from './time.js';
export { RollingCounter } from './window.js';
