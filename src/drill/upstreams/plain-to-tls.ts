import type * as http from 'node:http';
import * as net from 'node:net';
import type { KeyPair } from './fixtures.js';
import type { UpstreamTracker } from './lifecycle.js';
import { createOkServer, type OkAppOptions } from './ok-app.js';

/** Go's net/http answer to plain HTTP on a TLS port, byte for byte (server.go, then it closes). */
export const GO_PLAIN_HTTP_ON_TLS_ANSWER =
  'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/** Go answers only when the first five bytes read like an HTTP request (tlsRecordHeaderLooksLikeHTTP). */
const HTTP_LOOKING_PREFIXES = ['GET /', 'HEAD ', 'POST ', 'PUT /', 'OPTIO'];
/** RFC 8446 §5.1: a TLS record of type handshake(22) opens every TLS connection. */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * A TLS port like a Go server's: TLS clients get the 'ok' application, plain-HTTP clients get Go's
 * 400. The first bytes decide; TLS connections are handed, with those bytes put back, to an https
 * server that never listens itself.
 */
export function createPlainToTlsServer(
  tracker: UpstreamTracker,
  options: OkAppOptions,
  keyPair: KeyPair,
): { server: net.Server; tlsServer: http.Server } {
  const tlsServer = createOkServer(tracker, options, keyPair);
  const server = net.createServer((socket) => {
    tracker.own(socket);
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      if (seen[0] === TLS_HANDSHAKE_RECORD) {
        socket.off('data', onData);
        socket.pause();
        socket.unshift(seen);
        // The tls server's own 'connection' listener wraps it and reads the bytes put back.
        tlsServer.emit('connection', socket);
        return;
      }
      if (seen.length < 5) return;
      socket.off('data', onData);
      tracker.accept(socket);
      // Keep reading and dropping the rest, so closing sends FIN rather than RST.
      socket.resume();
      if (HTTP_LOOKING_PREFIXES.includes(seen.subarray(0, 5).toString('latin1'))) {
        tracker.countRequest();
        socket.end(GO_PLAIN_HTTP_ON_TLS_ANSWER);
      } else {
        socket.end();
      }
    };
    socket.on('data', onData);
  });
  return { server, tlsServer };
}
