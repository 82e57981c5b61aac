/**
 * What an exchange needs from the client side, whatever protocol the client speaks (HTTP/1.1 on our
 * own engine, or HTTP/2 through node:http2).
 */
import type { Socket } from 'node:net';
import type { ErrorResponse } from '../diagnose/index.js';
import type { Exchange } from './exchange.js';
import type { ClientFacts } from './forward-head.js';

export interface Downstream {
  readonly client: ClientFacts;
  /** Minor version of the client's HTTP/1.x (1 for HTTP/2 clients). */
  readonly httpMinor: number;
  /** Relays an interim 1xx response (already validated) to the client. */
  writeInterim(ex: Exchange): void;
  /**
   * Writes the response head (from `ex.res`) and the first body bytes `body[start, end)` together.
   * Returns false when the client is not draining (the exchange then pauses its upstream).
   */
  writeResponse(ex: Exchange, body: Buffer | null, start: number, end: number): boolean;
  writeBody(buf: Buffer, start: number, end: number): boolean;
  /** The response is complete. */
  finish(ex: Exchange): void;
  /** A response Gatewise makes itself. */
  writeError(ex: Exchange, response: ErrorResponse): void;
  /** The response was cut after its head: the client must see an aborted transfer, never a short body. */
  abort(ex: Exchange): void;
  pauseBody(): void;
  resumeBody(): void;
  /** 101 Switching Protocols: from now on bytes flow raw between the two sockets. */
  tunnel(ex: Exchange, upstream: Socket, upstreamRest: Buffer | null): void;
  /** The request's Accept value ('' when none): decides the error body format. */
  requestAccept(): string;
  /** Whether the client connection stays open after this response. */
  keepsAlive(ex: Exchange): boolean;
}
