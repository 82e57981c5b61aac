import { isIPv4, isIPv6 } from 'node:net';
import { GatewayError } from '../errors.js';

/**
 * Durations, sizes, percentages, status ranges and CIDRs as users write them in the configuration. Each parser throws a
 * GatewayError whose message is ready to be shown after `file:line:col: `.
 */

/** Node's timers overflow above 2^31-1 ms and then fire at once, so no duration may exceed it. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

function durationError(text: unknown, why = ''): GatewayError {
  return new GatewayError('GW_CONFIG_DURATION', `expected a duration like "2s", got ${showValue(text)}${why}`);
}

/**
 * `250ms`, `2s`, `1m`, `1h`, `1.5s`, `1m30s`, or a bare `0` -> milliseconds. A unit is required
 * for anything but zero, because a bare `30` is ambiguous (nginx reads seconds, Node milliseconds).
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed === '' || /^\d+(\.\d+)?$/.test(trimmed)) {
    throw durationError(text, trimmed === '' ? '' : ' (a unit is required: ms, s, m or h)');
  }
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < trimmed.length) {
    const match = DURATION_PART.exec(trimmed);
    if (match === null) throw durationError(text);
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2]!] ?? Number.NaN);
  }
  // Rounding absorbs binary noise such as 0.3s = 299.99999999999994 ms; a true fraction is an error.
  const rounded = Math.round(total * 1000) / 1000;
  if (!Number.isInteger(rounded)) throw durationError(text, ' (a whole number of milliseconds)');
  if (rounded > MAX_DURATION_MS) throw durationError(text, ' (at most 596h, about 24 days)');
  return rounded;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE = /^(\d+)\s*([kmg]?)b?$/i;

/** `512` (bytes), `16k`, `1m`, `1g` (binary multiples, as nginx reads them) -> bytes. */
export function parseSize(text: string): number {
  const match = SIZE.exec(text.trim());
  const bytes = match === null ? Number.NaN : Number(match[1]) * (SIZE_UNITS[match[2]!.toLowerCase()] ?? Number.NaN);
  if (!Number.isSafeInteger(bytes)) {
    throw new GatewayError('GW_CONFIG_SIZE', `expected a size like "16k", "1m" or "512", got ${showValue(text)}`);
  }
  return bytes;
}

/** Milliseconds as a user would write them: `0`, `250ms`, `5m`, `1m30s`; parseDuration reads it back. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = ms;
  let text = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 ? `${text}${rest}ms` : text;
}

const PERCENT_TEXT = /^(\d+(?:\.\d+)?)\s*(%?)$/;

/**
 * `50%`, or a number 0..100 (`50`, also as text from `\${ENV}`) -> 50. A bare number between 0 and 1
 * is refused: `0.5` could mean 0.5% or a fraction meaning 50%, and guessing wrong is silent.
 */
export function parsePercent(value: unknown): number {
  let percent = Number.NaN;
  let bare = typeof value === 'number';
  if (typeof value === 'number') percent = value;
  else if (typeof value === 'string') {
    const match = PERCENT_TEXT.exec(value.trim());
    if (match !== null) {
      percent = Number(match[1]);
      bare = match[2] === '';
    }
  }
  if (!Number.isFinite(percent) || percent < 0) {
    throw new GatewayError('GW_CONFIG_PERCENT', `expected a percentage like "50%", got ${showValue(value)}`);
  }
  if (bare && percent > 0 && percent < 1) {
    throw new GatewayError(
      'GW_CONFIG_PERCENT',
      `expected a percentage like "50%", got ${showValue(value)} (write "${percent}%", or "${Number((percent * 100).toPrecision(12))}%" if a fraction was meant)`,
    );
  }
  return percent;
}

/** An inclusive range of HTTP status codes. */
export interface StatusRange {
  min: number;
  max: number;
}

const STATUS_TEXT = /^(\d{1,4})(?:\s*-\s*(\d{1,4}))?$/;

/**
 * `200` or `"200-299"` -> { min, max }, within the status codes HTTP defines (RFC 9110 §15: three
 * digits, first digit 1..5).
 */
export function parseStatusRange(value: unknown): StatusRange {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  const match = typeof text === 'string' ? STATUS_TEXT.exec(text.trim()) : null;
  if (match === null) {
    throw new GatewayError(
      'GW_CONFIG_STATUS',
      `expected a status like 200 or a range like "200-299", got ${showValue(value)}`,
    );
  }
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  for (const status of [min, max]) {
    if (status < 100 || status > 599) {
      const where = match[2] === undefined ? '' : ` (in ${showValue(value)})`;
      throw new GatewayError('GW_CONFIG_STATUS', `status ${status} is outside 100-599${where}`);
    }
  }
  if (min > max) {
    throw new GatewayError(
      'GW_CONFIG_STATUS',
      `status range ${showValue(value)} runs backwards (write "${max}-${min}")`,
    );
  }
  return { min, max };
}

/** How a value is quoted back to the user in a problem message. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

/**
 * An address block. IPv4 blocks are kept as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2), so one
 * comparison serves both families and `::ffff:10.0.0.1` (what a dual-stack socket reports for an
 * IPv4 peer) matches `10.0.0.0/8`.
 */
export interface Cidr {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

function cidrError(text: string, why: string): GatewayError {
  return new GatewayError(
    'GW_CONFIG_CIDR',
    `expected an IP address or CIDR like "10.0.0.0/8", got ${showValue(text)}${why}`,
  );
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (`10.0.0.1`, `::1`). */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(addressText);
  if (bytes === undefined) throw cidrError(text, '');
  const offset = isIPv4(addressText) ? 96 : 0;
  const bits = 128 - offset;
  let prefixLength = bits;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    prefixLength = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!(prefixLength <= bits)) throw cidrError(text, ` (prefix length must be 0..${bits})`);
  }
  const masked = bytes.slice();
  for (let bit = prefixLength + offset; bit < 128; bit++) masked[bit >> 3]! &= ~(0x80 >> (bit & 7));
  if (masked.some((byte, i) => byte !== bytes[i])) {
    // A block with host bits set is almost always a typo for another block; say which one.
    const meant = `${formatIp(masked, offset === 96)}/${prefixLength}`;
    throw new GatewayError('GW_CONFIG_CIDR', `CIDR "${text}" has host bits set (did you mean "${meant}"?)`);
  }
  const cidr: Cidr = { text, bytes: masked, prefixLength: prefixLength + offset };
  return cidr;
}

/** Parses a list once at configuration load so that matching on the request path allocates nothing. */
export function parseCidrs(texts: readonly string[]): Cidr[] {
  return texts.map(parseCidr);
}

/** True when `address` (as a socket reports it: `1.2.3.4`, `::1`, `::ffff:1.2.3.4`) lies in any block. */
export function matchesCidr(address: string, cidrs: readonly Cidr[]): boolean {
  const bytes = parseIp(address);
  if (bytes === undefined) return false;
  for (const cidr of cidrs) if (bytesMatch(bytes, cidr)) return true;
  return false;
}

function bytesMatch(bytes: Uint8Array, cidr: Cidr): boolean {
  const whole = cidr.prefixLength >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole]! ^ cidr.bytes[whole]!) & mask) === 0;
}

/** An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into ::ffff:0:0/96); undefined if invalid. */
export function parseIp(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  const bytes = new Uint8Array(16);
  if (isIPv4(address)) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    address.split('.').forEach((part, i) => {
      bytes[12 + i] = Number(part);
    });
    return bytes;
  }
  if (!isIPv6(address)) return undefined;
  // node:net has validated the syntax; expand `::` and an embedded IPv4 tail into 8 groups.
  let groups = address.split(':');
  const last = groups[groups.length - 1]!;
  if (last.includes('.')) {
    const v4 = last.split('.').map(Number);
    groups.splice(-1, 1, ((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
  }
  const gap = groups.indexOf('');
  if (gap !== -1) {
    const head = groups.slice(0, gap);
    const tail = groups.slice(gap).filter((group) => group !== '');
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function formatIp(bytes: Uint8Array, ipv4: boolean): string {
  if (ipv4) return Array.from(bytes.subarray(12)).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the first longest run of zero groups (RFC 5952 §4.2.3).
  const text = groups.join(':');
  const runs = text.match(/(^|:)0(:0)+(:|$)/g) ?? [];
  const longest = runs.reduce((best, run) => (run.length > best.length ? run : best), '');
  return longest === '' ? text : text.replace(longest, '::');
}
