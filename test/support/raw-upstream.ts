/**
 * A scripted upstream on 127.0.0.1 port 0: reads request heads (and Content-Length bodies) on each
 * connection and lets the test decide, per request, which exact bytes to answer with or whether to
 * close or reset. For framings and misbehaviour the ok upstream cannot produce.
 */
import * as net from 'node:net';

export interface SeenRequest {
  /** 0-based index of the connection on this server. */
  connection: number;
  /** 0-based index of the request on its connection. */
  index: number;
  head: string;
  method: string;
  target: string;
  body: Buffer;
  socket: net.Socket;
}

export type RawHandler = (request: SeenRequest) => void;

export interface RawUpstream {
  readonly port: number;
  readonly url: string;
  readonly requests: SeenRequest[];
  readonly connections: number;
  close(): Promise<void>;
}

export async function startRawUpstream(handler: RawHandler): Promise<RawUpstream> {
  const sockets = new Set<net.Socket>();
  const requests: SeenRequest[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let index = 0;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end + 4);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const bodyBytes = length ? Number(length[1]) : 0;
        if (buf.length < end + 4 + bodyBytes) return;
        const body = Buffer.from(buf.subarray(end + 4, end + 4 + bodyBytes));
        buf = buf.subarray(end + 4 + bodyBytes);
        const [method = '', target = ''] = head.split(' ', 2);
        const seen: SeenRequest = { connection, index: index++, head, method, target, body, socket };
        requests.push(seen);
        handler(seen);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
