// node-http-proxy behind a node:http server, with a keep-alive Agent so upstream connections are reused.
import { Agent, createServer, ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import { parsePeerArgs } from './peer-args.js';

const { port, upstream, connections } = parsePeerArgs(process.argv.slice(2));
const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
const proxy = httpProxy.createProxyServer({ target: upstream, agent });

// http-proxy 1.18.1 aborts the upstream request on the client request's 'aborted' event, which
// Node ≥ 15.5 no longer emits once a request body is complete (nodejs/node#41117). A client that
// leaves mid-response then pins an Agent socket forever and, with maxSockets bounded, the proxy
// stalls. This is the fix proposed upstream (http-party/node-http-proxy#1559, #1580), applied
// through the public 'proxyReq' event.
proxy.on('proxyReq', (proxyReq, _req, res) => {
  res.on('close', () => {
    if (!res.writableFinished) proxyReq.destroy();
  });
});

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
