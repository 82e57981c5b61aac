/**
 * Keep-alive pools: acquiring a connection to a server (the most recently used idle one first) and
 * giving it back after a complete exchange. Idle connections expire on the shared clock, at our idle
 * timeout or one second before the upstream's advertised `Keep-Alive: timeout=`, whichever is first,
 * so that we never write into a connection the server is about to close.
 */
import type { Upstream, UpstreamServer } from '../upstream/index.js';
import { UpstreamConnection, type UpstreamOwner } from './upstream-connection.js';

export type Server = UpstreamServer<UpstreamConnection>;

/** An idle connection, or undefined when a new one must be opened. */
export function takeIdle(server: Server, nowMs: number): UpstreamConnection | undefined {
  const idle = server.idle;
  while (idle.length > 0) {
    const conn = idle.pop()!;
    // A connection whose server already sent FIN ('end' seen, 'close' not yet) is not reused.
    if (!conn.closed && !conn.socket.readableEnded && conn.idleUntil > nowMs) return conn;
    conn.destroy();
  }
  return undefined;
}

/**
 * Whether a failure on a reused connection may be the keep-alive race: the server closing the
 * connection for idleness just as we reused it. Servers' idle timeouts are seconds long (Node 5 s,
 * nginx 75 s), so a connection that failed after being idle for less than a second — or for well
 * under the timeout the server announced — was not closed for idleness: the server failed.
 */
export function mayBeIdleRace(conn: UpstreamConnection, reusedAtMs: number): boolean {
  const idleMs = reusedAtMs - conn.idleSince;
  if (conn.keepAliveHintMs >= 0) return idleMs >= conn.keepAliveHintMs - 1500;
  return idleMs >= 1000;
}

export function openConnection(server: Server, owner: UpstreamOwner): UpstreamConnection {
  return new UpstreamConnection(server, owner);
}

/** Returns a connection to its server's idle list after a complete exchange, or closes it. */
export function release(upstream: Upstream<UpstreamConnection>, conn: UpstreamConnection, nowMs: number): void {
  conn.owner = null;
  conn.served++;
  const spec = upstream.spec;
  const server = conn.server;
  if (
    conn.closed ||
    upstream.retired ||
    server.idle.length >= spec.maxIdlePerServer ||
    (spec.maxRequestsPerConnection > 0 && conn.served >= spec.maxRequestsPerConnection)
  ) {
    conn.destroy();
    return;
  }
  let idleMs = spec.idleTimeoutMs;
  if (conn.keepAliveHintMs >= 0) idleMs = Math.min(idleMs, Math.max(0, conn.keepAliveHintMs - 1000));
  if (idleMs <= 0) {
    conn.destroy();
    return;
  }
  conn.idleSince = nowMs;
  conn.idleUntil = nowMs + idleMs;
  server.idle.push(conn);
}

/** Closes idle connections past their time; called on every clock tick. */
export function expireIdle(upstreams: Iterable<Upstream<UpstreamConnection>>, nowMs: number): void {
  for (const upstream of upstreams) {
    for (const server of upstream.servers) {
      const idle = server.idle;
      // Oldest first: the list is LIFO, so expired connections gather at the front.
      while (idle.length > 0 && idle[0]!.idleUntil <= nowMs) idle.shift()!.destroy();
    }
  }
}

/** Closes every idle connection (shutdown, or a reload that dropped the upstream). */
export function closeIdle(upstreams: Iterable<Upstream<UpstreamConnection>>): void {
  for (const upstream of upstreams) {
    for (const server of upstream.servers) {
      for (const conn of server.idle.splice(0)) conn.destroy();
    }
  }
}
