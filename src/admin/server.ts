/**
 * The admin API on its own address (node:http: the admin side is not the data plane). Loopback by
 * default; any other address requires a bearer token, compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { parseListenAddress } from '../proxy/listen-address.js';

export interface AdminRoute {
  method: string;
  /** An exact path, or a pattern whose groups become `params`. */
  path: string | RegExp;
  handle(req: http.IncomingMessage, params: readonly string[]): Promise<{ status: number; body: unknown }>;
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
    if (this.token !== '' && !authorized(req.headers.authorization, this.token)) {
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
    const { status, body } = await route.handle(req, params);
    send(res, status, body);
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

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}
