import { randomBytes } from 'node:crypto';

/**
 * Request ids: an incoming id is kept when it is sane (1–128 characters of a conservative set), so a
 * trace started upstream of us continues; otherwise one is generated from a per-process random prefix
 * and a counter, which is unique without a random call per request.
 */
const prefix = randomBytes(6).toString('base64url');
let counter = 0;

export function generateRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}

export function isSaneRequestId(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || // 0-9
      (c >= 0x41 && c <= 0x5a) || // A-Z
      (c >= 0x61 && c <= 0x7a) || // a-z
      c === 0x2d || // -
      c === 0x2e || // .
      c === 0x5f || // _
      c === 0x3a || // :
      c === 0x40 || // @
      c === 0x2f || // /
      c === 0x2b || // +
      c === 0x3d; // =
    if (!ok) return false;
  }
  return true;
}
