import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { expected, parsedValue } from './fields.js';
import { didYouMean } from './suggest.js';
import { parsePercent, parseStatusRange, showValue } from './units.js';

/** The leaf types only the resilience settings use: shares, status codes and ranges, JSON paths. */

function percentError(message: string): GatewayError {
  return new GatewayError('GW_CONFIG_PERCENT', message);
}

/**
 * A share written `50%` or as a number 0..100. `scale` 100 stores a fraction (50% -> 0.5), 1 stores
 * the percentage itself (for keys whose name says percent).
 */
function share(maxPercent: number, aboveZero: boolean, scale: number) {
  const lowest = aboveZero ? 'above 0% and at most' : 'from 0% to';
  const type = aboveZero ? `percentage > 0, <= ${maxPercent}%` : `percentage 0..${maxPercent}%`;
  return parsedValue(type, (value) => {
    const percent = parsePercent(value);
    if (percent > maxPercent || (aboveZero && percent === 0)) {
      throw percentError(`expected a percentage ${lowest} ${maxPercent}%, got ${showValue(value)}`);
    }
    return percent / scale;
  });
}

/** A percentage stored as a fraction: `10%` -> 0.1. */
export const fraction = (maxPercent = 100, { aboveZero = false } = {}) => share(maxPercent, aboveZero, 100);

/** A percentage stored as written: `20%` or `20` -> 20. */
export const percent = (maxPercent = 100) => share(maxPercent, false, 1);

/** `200` or `"200-299"` -> { min, max }. */
export const statusRange = () => parsedValue('status or "min-max"', parseStatusRange);

const SERVER_ERROR = 'a status 500-599';
const INTEGER_TEXT = /^\d+$/;

function isNumberLike(value: unknown): value is number | string {
  return typeof value === 'number' || (typeof value === 'string' && INTEGER_TEXT.test(value.trim()));
}

/** A 5xx status (RFC 9110 §15.6): what a server answers when it, not the request, failed. */
function parseServerError(value: unknown): number {
  const status = isNumberLike(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(status) || status < 500 || status > 599) {
    throw new GatewayError('GW_CONFIG_STATUS', `expected ${SERVER_ERROR}, got ${showValue(value)}`);
  }
  return status;
}

export const serverErrorStatus = () => parsedValue('status 500..599', parseServerError);

/** One of `names`, or a 5xx status. */
export function nameOrServerError<const T extends readonly [string, ...string[]]>(names: T) {
  const known: readonly string[] = names;
  return parsedValue(`${names.join(' | ')} | 500..599`, (value): T[number] | number => {
    if (typeof value === 'string' && known.includes(value)) return value;
    if (isNumberLike(value)) return parseServerError(value);
    throw new GatewayError(
      'GW_CONFIG_VALUE',
      `expected one of ${names.join(', ')} or ${SERVER_ERROR}; got ${showValue(value)}${didYouMean(value, names)}`,
    );
  });
}

/** '' (the whole document) or a dot path into a JSON value: `status`, `checks.db`, `items.0.state`. */
export const jsonPath = () =>
  parsedValue('dot path', (value) => {
    if (typeof value === 'string' && /^$|^[^.]+(\.[^.]+)*$/.test(value)) return value;
    const what = typeof value === 'string' ? ' (no empty parts)' : '';
    throw new GatewayError(
      'GW_CONFIG_VALUE',
      `expected '' or a dot path like "checks.db"${what}, got ${showValue(value)}`,
    );
  });

/** A string, number or boolean, kept as its text: `equals: true` and `equals: "true"` mean the same. */
export const scalarText = (what = 'a string') =>
  z.preprocess(
    (value) => (typeof value === 'number' || typeof value === 'boolean' ? String(value) : value),
    z.string({ error: expected(what) }),
  );
