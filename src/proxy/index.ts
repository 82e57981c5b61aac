export { Clock } from './clock.js';
export type { Exchange } from './exchange.js';
export { Gateway, type GatewayOptions } from './gateway.js';
export type { ExchangeObserver } from './observer.js';
export { type CompiledRoute, compileRuntime, type Runtime } from './runtime.js';
