/**
 * The request path's state of every upstream and server in one process, as plain data: what a
 * worker process reports to its primary (`serve --workers`), where status, gauges and alert rules
 * read it.
 */
import type { Runtime } from '../proxy/index.js';

/** What one process's request path holds for one upstream now. */
export interface LiveUpstream {
  inflight: number;
  queued: number;
  panic: boolean;
  servers: LiveServer[];
}

export interface LiveServer {
  key: string;
  address: string;
  available: boolean;
  ejected: boolean;
  ejected_until: string | undefined;
  breaker: string;
  passive: unknown;
  inflight: number;
  open: number;
  idle: number;
}

/** What the request path holds now, per upstream and server. */
export function liveOf(runtime: Runtime): Record<string, LiveUpstream> {
  const out: Record<string, LiveUpstream> = {};
  for (const [name, upstream] of runtime.upstreams) {
    const guard = runtime.guards.get(name);
    out[name] = {
      inflight: guard?.queue.inflight ?? 0,
      queued: guard?.queue.length ?? 0,
      panic: guard?.panic ?? false,
      servers: upstream.servers.map((s) => {
        const snapshot = guard?.snapshot(s.index) ?? {};
        return {
          key: s.key,
          address: s.address,
          available: s.available,
          ejected: guard?.isEjected(s.index) ?? false,
          ejected_until: snapshot.ejected_until as string | undefined,
          breaker: (snapshot.breaker as string | undefined) ?? 'none',
          passive: snapshot.passive,
          inflight: s.inflight,
          open: s.open,
          idle: s.idle.length,
        };
      }),
    };
  }
  return out;
}
