import { type ActiveHealthConfig, MAX_PROBE_BODY_BYTES, type StatusRange } from './types.js';

/** What a passing answer must look like, compiled once per checker. */
export interface Expectations {
  /** Tells whether a status passes. */
  status(statusCode: number): boolean;
  /** "200-399", "200, 204": the accepted statuses as an operator writes them. */
  statusText: string;
  /** The body must be read to judge the answer. */
  needsBody: boolean;
  /** Why the body fails, or undefined when it passes. */
  body(text: string, truncated: boolean): string | undefined;
}

/** Any 2xx or 3xx, as nginx's and HAProxy's default health checks accept. */
const DEFAULT_STATUS: readonly StatusRange[] = [{ min: 200, max: 399 }];

export function compileExpectations(config: ActiveHealthConfig): Expectations {
  const ranges = config.expect_status.length > 0 ? config.expect_status : DEFAULT_STATUS;
  const json = config.expect_json;
  const segments = json === undefined ? [] : jsonPathSegments(json.path);
  const contains = config.expect_body;
  return {
    status: (statusCode) => ranges.some((range) => statusCode >= range.min && statusCode <= range.max),
    statusText: ranges
      .map((range) => (range.min === range.max ? `${range.min}` : `${range.min}-${range.max}`))
      .join(', '),
    needsBody: contains !== '' || json !== undefined,
    body(text, truncated) {
      if (contains !== '' && !text.includes(contains)) {
        return `the body does not contain ${JSON.stringify(contains)}${truncated ? ` in its first ${kib(MAX_PROBE_BODY_BYTES)}` : ''}`;
      }
      if (json === undefined) return undefined;
      if (truncated) return `the body is larger than ${kib(MAX_PROBE_BODY_BYTES)}, too large to read as JSON`;
      return checkJson(text, json.path, segments, json.equals);
    },
  };
}

function checkJson(text: string, path: string, segments: readonly string[], equals: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `the body is not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  for (const segment of segments) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) {
      return `the JSON body has no ${JSON.stringify(path)}`;
    }
    value = (value as Record<string, unknown>)[segment];
  }
  const actual = stringifyJsonValue(value);
  if (actual === equals) return undefined;
  return `JSON ${JSON.stringify(path)} is ${JSON.stringify(actual)} (expected ${JSON.stringify(equals)})`;
}

/**
 * "checks.db.status", "$.checks.db.status" and "items.0.name" name the same kind of place: object
 * keys and array indexes separated by dots. "" and "$" name the whole document.
 */
export function jsonPathSegments(path: string): string[] {
  const trimmed = path.startsWith('$') ? path.slice(1).replace(/^\./, '') : path;
  return trimmed === '' ? [] : trimmed.split('.');
}

/** Strings compare as themselves; numbers, booleans, null, objects and arrays as their JSON text. */
export function stringifyJsonValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function kib(bytes: number): string {
  return `${bytes / 1024} KiB`;
}
