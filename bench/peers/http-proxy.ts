// node-http-proxy behind a node:http server, with a keep-alive Agent so upstream connections are reused.
import { Agent, createServer, ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import { parsePeerArgs } from './peer-args.js';

const { port, upstream, connections } = parsePeerArgs(process.argv.slice(2));
const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
const proxy = httpProxy.createProxyServer({ target: upstream, agent });

proxy.on('error', (err, _req, res) => {
  if (!(res instanceof ServerResponse)) res.destroy(err);
  else if (res.headersSent) res.destroy(err);
  else res.writeHead(502).end();
});

const server = createServer((req, res) => proxy.web(req, res));
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  agent.destroy();
  server.closeAllConnections();
});
