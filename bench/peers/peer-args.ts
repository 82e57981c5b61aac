import { parseArgs } from 'node:util';

/** What every peer proxy is told: where to listen, where to forward, how many upstream connections. */
export interface PeerArgs {
  port: number;
  upstream: string;
  connections: number;
}

export function parsePeerArgs(argv: readonly string[]): PeerArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      upstream: { type: 'string' },
      connections: { type: 'string' },
    },
  });
  const port = Number(values.port);
  const connections = Number(values.connections);
  if (!Number.isInteger(port) || !Number.isInteger(connections) || connections <= 0 || values.upstream === undefined) {
    throw new Error('usage: --port PORT --upstream http://HOST:PORT --connections N');
  }
  return { port, upstream: values.upstream, connections };
}

// RFC 9110 §7.6.1: these apply to one connection only and are not forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

type Headers = Record<string, string | string[] | undefined>;

/** A copy of `headers` without hop-by-hop fields (including those named in Connection). */
export function withoutHopByHop(headers: Headers): Headers {
  const named = headers['connection'];
  const listed =
    typeof named === 'string' ? new Set(named.split(',').map((token) => token.trim().toLowerCase())) : undefined;
  const out: Headers = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}
