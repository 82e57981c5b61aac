export * from './balancers/index.js';
export {
  type DiscoveredServer,
  type DiscoveredServers,
  type DiscoverSpec,
  type DiscoveryListener,
  type DiscoveryScheme,
  discoveredTargets,
  type SrvAnswer,
  SrvDiscovery,
  type SrvLookup,
  serversFromSrv,
  systemSrvLookup,
  UpstreamDiscoveries,
} from './discovery.js';
export { type HostLookup, HostResolver, type ResolvedAddresses, systemLookup } from './dns.js';
export { parseServerUrl, type ServerKind, type ServerSpec, type ServerTls, UpstreamServer } from './server.js';
export { Upstream, type UpstreamSpec } from './upstream.js';
