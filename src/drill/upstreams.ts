/**
 * A library of real misbehaving upstream servers on 127.0.0.1 (or a unix socket): one for each way
 * the chain `gateway → upstream` breaks. The tests prove every failure classification against these,
 * and `gatewise drill` starts the same servers.
 */
import type { Server } from 'node:http';
import * as net from 'node:net';
import { type FixtureCertificate, loadKeyPair } from './upstreams/fixtures.js';
import { startFullBacklog } from './upstreams/full-backlog.js';
import {
  closeServer,
  leaveRefusingSocket,
  listen,
  RunningUpstream,
  removeStaleSocket,
  UpstreamTracker,
  urlOf,
} from './upstreams/lifecycle.js';
import { createOkServer, type OkAppOptions } from './upstreams/ok-app.js';
import { createPlainToTlsServer } from './upstreams/plain-to-tls.js';
import { createRawServer, type RawBehaviour } from './upstreams/raw.js';
import type { StartedUpstream, UpstreamBehaviour, UpstreamOptions } from './upstreams/types.js';

export { TEST_CA_PATH, TEST_TLS_FIXTURES } from './upstreams/fixtures.js';
export { UpstreamStartError } from './upstreams/lifecycle.js';
export { PATTERN_ALPHABET, patternBody } from './upstreams/pattern.js';
export { GO_PLAIN_HTTP_ON_TLS_ANSWER } from './upstreams/plain-to-tls.js';
export {
  CUT_CHUNKED_CHUNK_BYTES,
  CUT_CHUNKED_CHUNKS,
  CUT_LENGTH_DECLARED,
  CUT_LENGTH_SENT,
  DEFAULT_DRIP_BYTES,
  DEFAULT_DRIP_MS,
  DEFAULT_HEAD_BYTES,
  SSH_BANNER,
} from './upstreams/raw.js';
export type { StartedUpstream, UpstreamBehaviour, UpstreamOptions } from './upstreams/types.js';
export { UPSTREAM_BEHAVIOURS } from './upstreams/types.js';

type Starter = (behaviour: UpstreamBehaviour, options: UpstreamOptions) => Promise<StartedUpstream>;

const startRaw: Starter = (behaviour, options) => {
  const tracker = new UpstreamTracker();
  return serve(behaviour, createRawServer(behaviour as RawBehaviour, tracker, options), tracker, options, 'http');
};

const startHttp =
  (certificate?: FixtureCertificate): Starter =>
  (behaviour, options) => {
    const tracker = new UpstreamTracker();
    const keyPair = certificate === undefined ? undefined : loadKeyPair(certificate);
    const server = createOkServer(tracker, okOptions(options), keyPair);
    return serve(behaviour, server, tracker, options, keyPair === undefined ? 'http' : 'https', () =>
      server.closeAllConnections(),
    );
  };

/** Table, not branches: adding a behaviour is adding a row. */
const STARTERS: Record<UpstreamBehaviour, Starter> = {
  ok: startHttp(),
  refuse: startRefuse,
  hang: startRaw,
  reset: startRaw,
  close: startRaw,
  garbage: startRaw,
  huge_head: startRaw,
  cut_length: startRaw,
  cut_chunked: startRaw,
  slow_drip: startRaw,
  tls: startHttp('server'),
  tls_self_signed: startHttp('selfSigned'),
  tls_expired: startHttp('expired'),
  tls_wrong_host: startHttp('wrongHost'),
  full_backlog: startFullBacklogUpstream,
  plain_to_tls_400: startPlainToTls,
};

/**
 * Starts one upstream that behaves as named, listening on 127.0.0.1 port 0 (or `options.unixPath`).
 * The caller owns it and must `close()` it (idempotent; closes every socket it opened).
 */
export function startUpstream(behaviour: UpstreamBehaviour, options: UpstreamOptions = {}): Promise<StartedUpstream> {
  return STARTERS[behaviour](behaviour, options);
}

function okOptions(options: UpstreamOptions): OkAppOptions {
  return { name: options.name, keepAliveTimeoutS: options.keepAliveTimeoutS };
}

async function serve(
  behaviour: UpstreamBehaviour,
  server: net.Server,
  tracker: UpstreamTracker,
  options: UpstreamOptions,
  scheme: 'http' | 'https',
  beforeSocketsClose?: () => void,
): Promise<StartedUpstream> {
  const address = await listen(server, options.unixPath);
  return new RunningUpstream(behaviour, address, urlOf(scheme, address), tracker, async () => {
    const serverClosed = closeServer(server);
    beforeSocketsClose?.();
    await tracker.closeAll();
    await serverClosed;
  });
}

/** A port (or socket file) where nothing listens: connect fails with ECONNREFUSED. */
async function startRefuse(behaviour: UpstreamBehaviour, options: UpstreamOptions): Promise<StartedUpstream> {
  const tracker = new UpstreamTracker();
  const server = net.createServer();
  if (options.unixPath !== undefined) {
    const path = options.unixPath;
    await leaveRefusingSocket(server, path);
    const address = { host: '', port: 0, socketPath: path };
    return new RunningUpstream(behaviour, address, urlOf('http', address), tracker, () => removeStaleSocket(path));
  }
  // The port is free again once closed; another process could take it, which is unlikely within a test.
  const address = await listen(server, undefined);
  await closeServer(server);
  return new RunningUpstream(behaviour, address, urlOf('http', address), tracker, async () => {});
}

async function startFullBacklogUpstream(
  behaviour: UpstreamBehaviour,
  options: UpstreamOptions,
): Promise<StartedUpstream> {
  const path = options.unixPath;
  if (path !== undefined) await removeStaleSocket(path);
  const backlog = await startFullBacklog(path);
  return new RunningUpstream(
    behaviour,
    backlog.address,
    urlOf('http', backlog.address),
    new UpstreamTracker(),
    async () => {
      await backlog.close();
      // The listener exits without unlinking its socket file.
      if (path !== undefined) await removeStaleSocket(path);
    },
  );
}

async function startPlainToTls(behaviour: UpstreamBehaviour, options: UpstreamOptions): Promise<StartedUpstream> {
  const tracker = new UpstreamTracker();
  const { server, tlsServer } = createPlainToTlsServer(tracker, okOptions(options), loadKeyPair('server'));
  return serve(behaviour, server, tracker, options, 'https', () => closeTlsSide(tlsServer));
}

/** The https side never listens; only its connections need closing. */
function closeTlsSide(tlsServer: Server): void {
  tlsServer.closeAllConnections();
}
