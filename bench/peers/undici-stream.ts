// A node:http server forwarding each request with undici's Pool.stream: undici writes the
// response body straight into the ServerResponse, the usual way to proxy with undici.
import { createServer, type ServerResponse } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { parsePeerArgs, withoutHopByHop } from './peer-args.js';

const { port, upstream, connections } = parsePeerArgs(process.argv.slice(2));
const pool = new Pool(upstream, { connections, pipelining: 1 });

// Bound once; the ServerResponse travels as undici's `opaque`.
function toClient({ statusCode, headers, opaque }: Dispatcher.StreamFactoryData<ServerResponse>): ServerResponse {
  opaque.writeHead(statusCode, withoutHopByHop(headers));
  return opaque;
}

function done(err: Error | null, { opaque }: Dispatcher.StreamData<ServerResponse>): void {
  // After the head went out undici destroys the response itself; before, answer 502.
  if (err !== null && !opaque.headersSent) opaque.writeHead(502).end();
}

const server = createServer((req, res) => {
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  pool.stream(
    {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: withoutHopByHop(req.headers),
      body: bodyless ? null : req,
      opaque: res,
    },
    toClient,
    done,
  );
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.destroy();
});
