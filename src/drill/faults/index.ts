/**
 * The fault-injection proxy of `gatewise drill`: TCP proxies between the gateway and its upstreams
 * that add Toxiproxy's toxics (latency, bandwidth, timeout, reset_peer, slow_close, slicer,
 * limit_data, down) and Gatewise's HTTP-level faults, driven from code or through a control API
 * compatible with Toxiproxy's.
 */
export { formatHostPort, type HostPort, parseHostPort } from './address.js';
export { FAULT_PROXY_VERSION } from './api.js';
export { FAULT_ERRORS, type FaultErrorKind, FaultProxyError } from './errors.js';
export type { ProxyInfo } from './proxy.js';
export {
  FaultProxyServer,
  type FaultProxyServerOptions,
  type PopulateResult,
  type ProxyOptions,
  type ProxyUpdate,
} from './server.js';
export {
  DOWNSTREAM_ONLY_TOXIC_TYPES,
  TOXIC_DEFAULTS,
  TOXIC_STREAMS,
  TOXIPROXY_TOXIC_TYPES,
  type ToxicAttributeMap,
  type ToxicInfo,
  type ToxicOptions,
  type ToxicStream,
  type ToxicType,
  type ToxicUpdate,
} from './toxic.js';
