import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { isHostname, parseHostPort, parseServerUrl } from './addresses.js';
import { didYouMean } from './suggest.js';
import { formatDuration, parseCidr, parseDuration, parseSize, showValue } from './units.js';

/**
 * The leaf types of the configuration schema. Each carries the label that the generated config
 * reference shows (`duration`, `size`, `host:port`...) in `fieldTypes`, and produces one-line
 * messages in the `expected X, got Y` form.
 */
export const fieldTypes = z.registry<{ type: string }>();

function labelled<T extends z.ZodType>(schema: T, type: string): T {
  fieldTypes.add(schema, { type });
  return schema;
}

/** A schema-level message that still lets a missing key be reported as missing. */
export function expected(what: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? undefined : `expected ${what}, got ${showValue(issue.input)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A string checked by one of the unit parsers, whose error message is passed through as-is. */
function parsedString(what: string, type: string, parse: (text: string) => unknown) {
  const schema = z.string({ error: expected(what) }).superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: messageOf(error), input: value });
    }
  });
  return labelled(schema, type);
}

/**
 * Any value read by `parse`, whose GatewayError message becomes the problem. The label is the type
 * the config reference shows.
 */
export function parsedValue<T>(type: string, parse: (value: unknown) => T) {
  const schema = z.unknown().transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: messageOf(error), input: value });
      return z.NEVER;
    }
  });
  return labelled(schema, type);
}

/** Milliseconds, written `250ms`, `2s`, `1m`, `1h` (or `0`). `min` is in milliseconds. */
export function duration(min = 1) {
  const schema = z.unknown().transform((value, ctx): number => {
    let ms = Number.NaN;
    try {
      if (typeof value === 'string') ms = parseDuration(value);
      else if (value === 0) ms = 0;
      else
        throw new Error(
          `expected a duration like "2s", got ${showValue(value)}${typeof value === 'number' ? ' (a unit is required: ms, s, m or h)' : ''}`,
        );
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: messageOf(error), input: value });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({
        code: 'custom',
        message:
          min <= 1
            ? `expected a duration greater than 0, got ${showValue(value)}`
            : `expected a duration of at least ${formatDuration(min)}, got ${showValue(value)}`,
        input: value,
      });
      return z.NEVER;
    }
    return ms;
  });
  return labelled(schema, 'duration');
}

/** Bytes, written `512`, `16k`, `1m`. */
export function size() {
  const schema = z.unknown().transform((value, ctx): number => {
    try {
      if (typeof value === 'string') return parseSize(value);
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
      throw new Error(`expected a size like "16k", "1m" or "512", got ${showValue(value)}`);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: messageOf(error), input: value });
      return z.NEVER;
    }
  });
  return labelled(schema, 'size');
}

/**
 * Integers and booleans also accept their canonical text (`"5"`, `"true"`): a value that comes
 * from `${ENV}` is a string, and inside `{ }` a reference must be quoted anyway.
 */
function fromText(parse: (text: string) => unknown) {
  return (value: unknown) => (typeof value === 'string' ? parse(value) : value);
}

const INTEGER_TEXT = /^[-+]?\d+$/;

export function integer(min: number, max?: number) {
  const schema = max === undefined ? z.int().min(min) : z.int().min(min).max(max);
  return z.preprocess(
    fromText((text) => (INTEGER_TEXT.test(text.trim()) ? Number(text) : text)),
    schema,
  );
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) =>
      issue.input === undefined
        ? undefined
        : `expected one of ${values.join(', ')}; got ${showValue(issue.input)}${didYouMean(issue.input, values)}`,
  });
}

export const hostPort = () => parsedString('host:port like "127.0.0.1:8080"', 'host:port', parseHostPort);
export const serverUrl = () => parsedString('a server URL', 'URL', parseServerUrl);
export const cidr = () => parsedString('an IP address or CIDR', 'CIDR', parseCidr);

/** RFC 9110 §5.6.2: a field name is a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const headerName = () =>
  labelled(
    z
      .string({ error: expected('a header name') })
      .regex(TOKEN, { error: expected('a header name (an RFC 9110 token)') }),
    'header name',
  );

/** '' (none) or a header name. */
export const headerNameOrEmpty = () =>
  labelled(
    z.string({ error: expected("'' or a header name") }).regex(/^$|^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, {
      error: expected("'' or a header name (an RFC 9110 token)"),
    }),
    'header name',
  );

// Message framing belongs to the gateway: letting a rule set these would let a config smuggle
// requests (RFC 9112 §6.1, §11.2) or break the connection's own keep-alive handling.
const FRAMING_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
]);

export const settableHeaderName = () =>
  headerName().refine((name) => !FRAMING_HEADERS.has(name.toLowerCase()), {
    error: (issue) => `header ${showValue(issue.input)} cannot be set by a rule (message framing is the gateway's job)`,
  });

/** Header values may be written as numbers; CR, LF and NUL are refused (RFC 9110 §5.5). */
export const headerValue = () =>
  labelled(
    z.unknown().transform((value, ctx): string => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        ctx.addIssue({ code: 'custom', message: `expected a header value, got ${showValue(value)}`, input: value });
        return z.NEVER;
      }
      const text = String(value);
      if (/[\r\n\0]/.test(text)) {
        ctx.addIssue({ code: 'custom', message: 'header values cannot contain CR, LF or NUL', input: value });
        return z.NEVER;
      }
      return text;
    }),
    'string',
  );

/** RFC 9110 §9.1: methods are case-sensitive tokens; the registered ones are uppercase. */
export const method = () =>
  labelled(
    z.string({ error: expected('a method like "GET"') }).regex(/^[!#$%&'*+\-.^_`|~0-9A-Z]+$/, {
      error: expected('an uppercase method like "GET"'),
    }),
    'method',
  );

export const pathPrefix = () =>
  labelled(
    z.string({ error: expected('a path starting with "/"') }).regex(/^\/[^\s?#\0-\x1f\x7f]*$/, {
      error: expected('a path starting with "/" (no spaces, query or fragment)'),
    }),
    'path',
  );

/** An exact host (`api.example.com`) or one leading wildcard label (`*.example.com`), lowercased. */
export const hostPattern = () =>
  labelled(
    z
      .string({ error: expected('a host like "api.example.com"') })
      .refine(
        (host) => {
          const bare = host.startsWith('*.') ? host.slice(2) : host;
          return isHostname(bare) || (host.startsWith('[') && host.endsWith(']') && isIPv6(host.slice(1, -1)));
        },
        { error: expected('a host like "api.example.com" or "*.example.com" (no port)') },
      )
      .transform((host) => host.toLowerCase()),
    'host pattern',
  );

/** '' (keep the path) or a replacement prefix starting with "/". */
export const pathOrEmpty = () =>
  labelled(
    z.string({ error: expected('\'\' or a path starting with "/"') }).regex(/^$|^\/[^\s?#\0-\x1f\x7f]*$/, {
      error: expected('\'\' or a path starting with "/" (no spaces, query or fragment)'),
    }),
    'path',
  );

export const filePath = () =>
  labelled(z.string({ error: expected('a file path') }).min(1, { error: 'expected a file path, got ""' }), 'file');

/** Plain text; a number is taken as its text (`servername: 1234`). */
export const text = (what = 'a string') =>
  z.preprocess((value) => (typeof value === 'number' ? String(value) : value), z.string({ error: expected(what) }));

export const flag = () =>
  z.preprocess(
    fromText((text) => (text === 'true' ? true : text === 'false' ? false : text)),
    z.boolean({ error: expected('true or false') }),
  );
