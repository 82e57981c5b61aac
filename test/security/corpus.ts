import { strict as assert } from 'node:assert';
import {
  ChunkedScanner,
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  HttpParseError,
  ParsedHead,
  parseRequestHead,
  parseResponseHead,
} from '../../src/http1/index.js';

/** One published smuggling payload and the refusal that defends against it. */
export interface Payload {
  name: string;
  raw: string;
  code: string;
  status: number;
}

/**
 * Reads one whole message as the engine does: head first, then the chunked body through the
 * scanner. Throws the HttpParseError that refuses it; returns normally when the message is
 * accepted (which every corpus entry must not be).
 */
export function readMessage(raw: string, isRequest: boolean): void {
  const buf = Buffer.from(raw, 'latin1');
  const headEnd = findHeadEnd(buf, 0, 0, buf.length);
  assert.notEqual(headEnd, -1, 'the payload holds a complete head');
  const head = new ParsedHead();
  if (isRequest) parseRequestHead(buf, 0, headEnd, DEFAULT_HEAD_LIMITS, head);
  else parseResponseHead(buf, 0, headEnd, DEFAULT_HEAD_LIMITS, head);
  if (head.chunked) new ChunkedScanner(undefined, undefined, isRequest ? 400 : 502).scan(buf, headEnd, buf.length);
}

export function assertRefused(payload: Payload, isRequest = true): void {
  assert.throws(
    () => readMessage(payload.raw, isRequest),
    (err: unknown) => {
      assert.ok(err instanceof HttpParseError, `${payload.name}: expected HttpParseError, got ${String(err)}`);
      assert.equal(err.code, payload.code, payload.name);
      assert.equal(err.status, payload.status, payload.name);
      return true;
    },
    `${payload.name} was accepted`,
  );
}
