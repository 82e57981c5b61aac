/**
 * The admin API on its own address (node:http: the admin side is not the data plane). Loopback by
 * default; any other address requires a bearer token, compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { parseListenAddress } from '../proxy/listen-address.js';

export interface AdminReply {
  status: number;
  body: unknown;
  /** Set for a body sent as is (a string): the dashboard page. JSON otherwise. */
  contentType?: string;
}

export interface AdminRoute {
  method: string;
  /** An exact path, or a pattern whose groups become `params`. */
  path: string | RegExp;
  handle?(req: http.IncomingMessage, params: readonly string[]): Promise<AdminReply>;
  /** A long-lived response (server-sent events) that the route writes itself. */
  stream?(req: http.IncomingMessage, res: http.ServerResponse): void;
  /**
   * Answered without the token: liveness and readiness probes (a Kubernetes probe cannot send a
   * secret), which say nothing but up or ready.
   */
  open?: boolean;
}

export class AdminServer {
  private readonly server: http.Server;

  constructor(
    private readonly routes: readonly AdminRoute[],
    private readonly token: string,
  ) {
    this.server = http.createServer((req, res) => {
      this.dispatch(req, res).catch((error: unknown) => {
        send(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
    });
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requested = (req.url ?? '/').split('?')[0] ?? '/';
    const open = this.routes.some((r) => r.open === true && r.path === requested && r.method === req.method);
    if (
      !open &&
      this.token !== '' &&
      !authorized(req.headers.authorization, this.token) &&
      !authorizedByQuery(req.url, this.token)
    ) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="gatewise admin"');
      send(res, 401, { error: 'a bearer token is required' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let params: string[] = [];
    let pathMatched = false;
    let route: AdminRoute | undefined;
    for (const r of this.routes) {
      const match = typeof r.path === 'string' ? (r.path === path ? [path] : null) : r.path.exec(path);
      if (match === null) continue;
      pathMatched = true;
      if (r.method === req.method) {
        route = r;
        params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
        break;
      }
    }
    if (!route) {
      send(res, pathMatched ? 405 : 404, { error: pathMatched ? 'method not allowed' : 'not found' });
      return;
    }
    if (route.stream) {
      route.stream(req, res);
      return;
    }
    const reply = await route.handle!(req, params);
    if (reply.contentType !== undefined) {
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store' });
      res.end(reply.body as string);
      return;
    }
    send(res, reply.status, reply.body);
  }

  listen(address: string): Promise<string> {
    const { host, port } = parseListenAddress(address);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.removeListener('error', reject);
        const a = this.server.address();
        resolve(
          a !== null && typeof a === 'object'
            ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
            : address,
        );
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function authorized(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const expected = Buffer.from(token);
  // Lengths are compared first; timingSafeEqual needs equal lengths and compares in constant time.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A browser cannot put a bearer token on a page load or an EventSource, so the dashboard passes it
 * as `?access_token=` (RFC 6750 §2.3), compared the same constant-time way.
 */
function authorizedByQuery(url: string | undefined, token: string): boolean {
  const q = url?.indexOf('?') ?? -1;
  if (q < 0) return false;
  const given = new URLSearchParams(url!.slice(q + 1)).get('access_token');
  return given !== null && authorized(`Bearer ${given}`, token);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
