/**
 * The toxic model: types, their attributes and defaults, and the one parser every toxic goes
 * through (control API and programmatic API alike), faithful to Toxiproxy's toxic_collection.go.
 */
import { FaultProxyError } from './errors.js';

export const TOXIC_STREAMS = ['upstream', 'downstream'] as const;
/** Toxiproxy's meaning: `upstream` is client → upstream server, `downstream` is server → client. */
export type ToxicStream = (typeof TOXIC_STREAMS)[number];

/**
 * Every toxic type and its attributes with their defaults: a number is an integer attribute, a
 * string a string one. Toxiproxy's seven come first with its zero defaults (a missing attribute is
 * 0 there too); the HTTP faults after them are Gatewise's own.
 */
export const TOXIC_DEFAULTS = {
  /** Delay every chunk by `latency` ± `jitter` ms. */
  latency: { latency: 0, jitter: 0 },
  /** At most `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). */
  bandwidth: { rate: 0 },
  /** Delay the close by `delay` ms. */
  slow_close: { delay: 0 },
  /** Drop all data; close after `timeout` ms without data (0 = never). */
  timeout: { timeout: 0 },
  /** On the first data, wait `timeout` ms, then reset both sockets (TCP RST). */
  reset_peer: { timeout: 0 },
  /** Cut data into pieces of `average_size` ± `size_variation` bytes, `delay` µs apart. */
  slicer: { average_size: 0, size_variation: 0, delay: 0 },
  /** Close the connection once `bytes` bytes went through. */
  limit_data: { bytes: 0 },
  /** Answer every request with `status` (and `body`) instead of the upstream. */
  http_status: { status: 503, body: '' },
  /** Answer a request with non-HTTP bytes: `bytes` random bytes, or with 0 an SSH banner. */
  garbage: { bytes: 0 },
  /** Answer a request with a response head larger than `size` bytes. */
  huge_header: { size: 65536 },
  /** Answer a request with a TLS alert record (`alert` is its description code, RFC 8446 §6). */
  tls_reply: { alert: 10 },
} satisfies Record<string, Attributes>;

export type ToxicType = keyof typeof TOXIC_DEFAULTS;
export type ToxicAttributeMap = typeof TOXIC_DEFAULTS;
export type Attributes = Record<string, number | string>;

/** The toxic types Toxiproxy itself has; the others are Gatewise's HTTP-level extensions. */
export const TOXIPROXY_TOXIC_TYPES: readonly ToxicType[] = [
  'latency',
  'bandwidth',
  'slow_close',
  'timeout',
  'reset_peer',
  'slicer',
  'limit_data',
];

/** HTTP-level faults answer for the upstream, so they work on responses (downstream) only. */
export const DOWNSTREAM_ONLY_TOXIC_TYPES: readonly ToxicType[] = ['http_status', 'garbage', 'huge_header', 'tls_reply'];

/** A toxic as the control API shows it: Toxiproxy's JSON, field for field and in its order. */
export interface ToxicInfo {
  attributes: Attributes;
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
}

/** A toxic to add; every field but `type` has Toxiproxy's default. */
export type ToxicOptions = {
  [T in ToxicType]: {
    type: T;
    /** Default `<type>_<stream>`. */
    name?: string;
    /** Default `downstream`. */
    stream?: ToxicStream;
    /** Probability (0..1) that the toxic applies to a connection; default 1. */
    toxicity?: number;
    attributes?: Partial<ToxicAttributeMap[T]>;
  };
}[ToxicType];

/** A change to a toxic: attributes given replace those values; the rest stay. */
export interface ToxicUpdate {
  attributes?: Attributes;
  toxicity?: number;
}

export class Toxic {
  constructor(
    readonly name: string,
    readonly type: ToxicType,
    readonly stream: ToxicStream,
    public toxicity: number,
    public attributes: Readonly<Attributes>,
  ) {}

  info(): ToxicInfo {
    return {
      attributes: { ...this.attributes },
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity: this.toxicity,
    };
  }

  /** Applies an update in place (attributes merge); throws before changing anything when invalid. */
  update(input: unknown): void {
    const body = asObject(input);
    const attributes = mergeAttributes(this.type, this.attributes, body['attributes']);
    const toxicity = body['toxicity'];
    if (toxicity !== undefined && toxicity !== null && typeof toxicity !== 'number')
      throw new FaultProxyError('bad_request_body', 'toxicity must be a number');
    this.attributes = attributes;
    if (typeof toxicity === 'number') this.toxicity = toxicity;
  }
}

function isToxicType(type: unknown): type is ToxicType {
  return typeof type === 'string' && Object.hasOwn(TOXIC_DEFAULTS, type);
}

/**
 * A new toxic from a control request body or ToxicOptions, checked in Toxiproxy's order: body,
 * stream, default name, type, (the caller checks the name is free), attributes.
 */
export function parseToxic(input: unknown): Toxic {
  const body = asObject(input);
  const streamText = optional(body, 'stream', 'string') ?? 'downstream';
  const stream = streamText.toLowerCase();
  if (stream !== 'upstream' && stream !== 'downstream') throw new FaultProxyError('invalid_stream');
  const typeText = optional(body, 'type', 'string') ?? '';
  const name = optional(body, 'name', 'string') || `${typeText}_${streamText}`;
  if (!isToxicType(typeText)) throw new FaultProxyError('invalid_toxic_type');
  if (stream === 'upstream' && DOWNSTREAM_ONLY_TOXIC_TYPES.includes(typeText))
    throw new FaultProxyError('invalid_stream', `${typeText} answers for the upstream and applies downstream only`);
  const toxicity = optional(body, 'toxicity', 'number') ?? 1;
  const attributes = mergeAttributes(typeText, TOXIC_DEFAULTS[typeText], body['attributes']);
  return new Toxic(name, typeText, stream, toxicity, attributes);
}

function mergeAttributes(type: ToxicType, base: Readonly<Attributes>, input: unknown): Attributes {
  const merged: Attributes = { ...base };
  if (input === undefined || input === null) return merged;
  const given = asObject(input, 'attributes');
  for (const [key, fallback] of Object.entries(TOXIC_DEFAULTS[type] as Attributes)) {
    const value = given[key];
    if (value === undefined || value === null) continue;
    if (typeof fallback === 'number') {
      // Toxiproxy's attributes are Go int64: a fraction or a string is refused.
      if (typeof value !== 'number' || !Number.isSafeInteger(value))
        throw new FaultProxyError('bad_request_body', `attribute ${key} of ${type} must be an integer`);
    } else if (typeof value !== 'string') {
      throw new FaultProxyError('bad_request_body', `attribute ${key} of ${type} must be a string`);
    }
    merged[key] = value;
  }
  const problem = checkAttributes(type, merged);
  if (problem !== undefined) throw new FaultProxyError('bad_request_body', problem);
  return merged;
}

/** Limits of Gatewise's own toxics; Toxiproxy's accept any integer, so these do too. */
function checkAttributes(type: ToxicType, attributes: Attributes): string | undefined {
  const value = (key: string) => attributes[key] as number;
  switch (type) {
    case 'http_status':
      // 1xx are interim answers (RFC 9110 §15.2): a final one would still be owed.
      if (value('status') < 200 || value('status') > 599) return 'attribute status of http_status must be 200..599';
      return undefined;
    case 'tls_reply':
      if (value('alert') < 0 || value('alert') > 255) return 'attribute alert of tls_reply must be 0..255';
      return undefined;
    case 'garbage':
      if (value('bytes') < 0 || value('bytes') > 16 * 1024 * 1024)
        return 'attribute bytes of garbage must be 0..16777216';
      return undefined;
    case 'huge_header':
      if (value('size') < 0 || value('size') > 64 * 1024 * 1024)
        return 'attribute size of huge_header must be 0..67108864';
      return undefined;
    default:
      return undefined;
  }
}

export function asObject(input: unknown, what = 'body'): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new FaultProxyError('bad_request_body', `${what} must be a JSON object`);
  return input as Record<string, unknown>;
}

/** A field of a JSON body: absent or null is undefined, another type is a bad request. */
export function optional<K extends 'string' | 'number' | 'boolean'>(
  body: Record<string, unknown>,
  key: string,
  kind: K,
): (K extends 'string' ? string : K extends 'number' ? number : boolean) | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== kind) throw new FaultProxyError('bad_request_body', `${key} must be a ${kind}`);
  return value as K extends 'string' ? string : K extends 'number' ? number : boolean;
}
