import { type Balancer, type BalancerName, createBalancer, type PickContext } from './balancers/index.js';
import { type ServerSpec, type ServerTls, UpstreamServer } from './server.js';

export interface UpstreamSpec {
  name: string;
  servers: readonly ServerSpec[];
  tls?: ServerTls | undefined;
  balance: BalancerName;
  hashHeader: string;
  connectTimeoutMs: number;
  sendTimeoutMs: number;
  readTimeoutMs: number;
  attempts: number;
  maxIdlePerServer: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  maxResponseHeadBytes: number;
  websocketIdleTimeoutMs: number;
}

/**
 * A named group of servers with its balancer. Primaries serve while any is available; backups only
 * when every primary is out (nginx's `backup`).
 */
export class Upstream<C = unknown> {
  readonly name: string;
  readonly spec: UpstreamSpec;
  readonly servers: UpstreamServer<C>[];
  private readonly primaries: UpstreamServer<C>[];
  private readonly backups: UpstreamServer<C>[];
  private readonly primaryBalancer: Balancer;
  private readonly backupBalancer: Balancer;
  /** Lowercased name of the header hashed by `header_hash`, '' otherwise. */
  readonly hashHeader: string;
  /** Replaced by a reload: connections that finish their exchange are closed, not pooled. */
  retired = false;

  constructor(spec: UpstreamSpec) {
    this.name = spec.name;
    this.spec = spec;
    this.servers = spec.servers.map((s, i) => new UpstreamServer<C>(i, s, spec.tls));
    this.primaries = this.servers.filter((s) => !s.backup);
    this.backups = this.servers.filter((s) => s.backup);
    this.primaryBalancer = createBalancer(spec.balance, this.primaries);
    this.backupBalancer = createBalancer(spec.balance, this.backups);
    this.hashHeader = spec.balance === 'header_hash' ? spec.hashHeader.toLowerCase() : '';
  }

  pick(ctx: PickContext): UpstreamServer<C> | undefined {
    const primary = this.primaryBalancer.pick(this.primaries, ctx) as UpstreamServer<C> | undefined;
    if (primary !== undefined || this.backups.length === 0) return primary;
    return this.backupBalancer.pick(this.backups, ctx) as UpstreamServer<C> | undefined;
  }
}
