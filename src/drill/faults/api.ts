/**
 * The control API, compatible with Toxiproxy's HTTP API (its README and api.go): the same paths,
 * methods, JSON shapes, status codes and error messages, so Toxiproxy clients can drive it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HostPort } from './address.js';
import { FaultProxyError } from './errors.js';
import type { FaultProxyServer } from './server.js';

/**
 * What GET /version answers: the Toxiproxy API release this one follows, marked (as semver build
 * metadata) as Gatewise's, so a client checking for 2.x is content and a person is not misled.
 */
export const FAULT_PROXY_VERSION = '2.12.0+gatewise';

/** Request bodies are small JSON documents; anything larger is refused. */
const MAX_BODY_BYTES = 1024 * 1024;

interface Reply {
  status: number;
  /** A JSON value to send; with neither json nor text the body is empty (204). */
  json?: unknown;
  /** A body sent as it is, with its content type. */
  text?: { body: string; type: string };
}

interface Request {
  params: string[];
  body(): Promise<unknown>;
}

type Handler = (server: FaultProxyServer, request: Request) => Promise<Reply> | Reply;

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const ok = (json: unknown): Reply => ({ status: 200, json });
const noContent: Reply = { status: 204 };

const updateProxy: Handler = async (server, { params, body }) =>
  ok(await server.updateProxy(params[0]!, unchecked(await body())));
const updateToxic: Handler = async (server, { params, body }) =>
  ok(server.updateToxic(params[0]!, params[1]!, unchecked(await body())));

/** The routes of api.go, in its order. POST and PATCH both update, as there. */
const ROUTES: readonly Route[] = [
  {
    pattern: /^\/reset$/,
    methods: {
      POST: async (server) => {
        await server.reset();
        return noContent;
      },
    },
  },
  {
    pattern: /^\/proxies$/,
    methods: {
      GET: (server) => ok(Object.fromEntries(server.listProxies().map((proxy) => [proxy.name, proxy]))),
      POST: async (server, { body }) => ({ status: 201, json: await server.addProxy(unchecked(await body())) }),
    },
  },
  {
    pattern: /^\/populate$/,
    methods: {
      POST: async (server, { body }) => {
        let input: unknown;
        try {
          input = await body();
        } catch (error) {
          if (error instanceof FaultProxyError) return populateError(error, []);
          throw error;
        }
        try {
          const result = await server.populateWithResult(unchecked(input));
          if (result.error !== undefined) return populateError(result.error, result.proxies);
          return { status: 201, json: { proxies: result.proxies } };
        } catch (error) {
          if (error instanceof FaultProxyError) return populateError(error, []);
          throw error;
        }
      },
    },
  },
  {
    pattern: /^\/proxies\/([^/]+)$/,
    methods: {
      GET: (server, { params }) => ok(server.getProxy(params[0]!)),
      POST: updateProxy,
      PATCH: updateProxy,
      DELETE: async (server, { params }) => {
        await server.removeProxy(params[0]!);
        return noContent;
      },
    },
  },
  {
    pattern: /^\/proxies\/([^/]+)\/toxics$/,
    methods: {
      GET: (server, { params }) => ok(server.listToxics(params[0]!)),
      // Toxiproxy answers a created toxic with 200, not 201.
      POST: async (server, { params, body }) => {
        server.getProxy(params[0]!);
        return ok(server.addToxic(params[0]!, unchecked(await body())));
      },
    },
  },
  {
    pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
    methods: {
      GET: (server, { params }) => ok(server.getToxic(params[0]!, params[1]!)),
      POST: updateToxic,
      PATCH: updateToxic,
      DELETE: (server, { params }) => {
        server.removeToxic(params[0]!, params[1]!);
        return noContent;
      },
    },
  },
  {
    pattern: /^\/version$/,
    methods: {
      // Byte for byte what api.go writes, newline included.
      GET: () => ({
        status: 200,
        text: { body: `{"version": "${FAULT_PROXY_VERSION}"}\n`, type: 'application/json;charset=utf-8' },
      }),
    },
  },
];

/**
 * A request body handed to the server as the type its method declares: every method checks each
 * field it reads (toxic.ts parseToxic, server.ts parseProxyOptions) and answers 400 otherwise.
 */
function unchecked<T>(value: unknown): T {
  return value as T;
}

/** Toxiproxy's /populate error: the error fields beside the proxies it did create. */
function populateError(error: FaultProxyError, proxies: unknown[]): Reply {
  return { status: error.status, json: { error: error.message, status: error.status, proxies } };
}

/** Starts the control API on `address`; the caller closes the returned server. */
export function startControlApi(server: FaultProxyServer, address: HostPort): Promise<Server> {
  const http = createServer((request, response) => {
    handle(server, request, response).catch((error: unknown) => {
      sendError(response, 500, error instanceof Error ? error.message : String(error));
    });
  });
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host: address.host === '' ? undefined : address.host, port: address.port }, () => {
      http.off('error', reject);
      resolve(http);
    });
  });
}

async function handle(server: FaultProxyServer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  // api.go refuses browsers, so a web page cannot drive the proxy through a visitor's browser.
  if ((request.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
    request.resume();
    sendText(response, 403, 'User agent not allowed\n');
    return;
  }
  const path = new URL(request.url ?? '/', 'http://control').pathname;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const handler = route.methods[request.method ?? ''];
    if (handler === undefined) {
      request.resume();
      sendText(response, 405, '');
      return;
    }
    const params = match.slice(1).map(decodeName);
    let reply: Reply;
    try {
      reply = await handler(server, { params, body: () => readJson(request) });
    } catch (error) {
      if (!(error instanceof FaultProxyError)) throw error;
      request.resume();
      sendError(response, error.status, error.message);
      return;
    }
    request.resume();
    send(response, reply);
    return;
  }
  request.resume();
  sendText(response, 404, '404 page not found\n');
}

/** A name from the path; a malformed escape cannot name anything, so it is left as it is (then 404). */
function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The body as JSON; an empty or broken one is "bad request body" (Go's decoder says EOF for empty). */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new FaultProxyError('bad_request_body', `larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new FaultProxyError('bad_request_body', 'EOF');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FaultProxyError('bad_request_body', (error as Error).message);
  }
}

function send(response: ServerResponse, reply: Reply): void {
  if (reply.text !== undefined) {
    sendText(response, reply.status, reply.text.body, reply.text.type);
    return;
  }
  if (reply.json === undefined) {
    response.writeHead(reply.status).end();
    return;
  }
  const body = JSON.stringify(reply.json);
  response.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

function sendError(response: ServerResponse, status: number, message: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  send(response, { status, json: { error: message, status } });
}

function sendText(response: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
