import type { Config } from './schema.js';

/**
 * A copy of a configuration that is safe to show (admin API, logs, `gatewise doctor`): secrets
 * become "***". A secret is any value under a key naming a token, password, secret or inline key
 * material, and the value of any credential-carrying header in a header rule or health check.
 */

export const REDACTED = '***';

// `key` alone is the TLS key *file path*: not secret, and useful when debugging. Key material
// written inline (private_key, api_key, ...) is secret.
const SECRET_KEY = /token|password|passwd|secret|credential|private_key|api_?key/i;
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie)$|auth|token|secret|password|api-?key/i;

/** `set` and `add` are header maps inside request_headers / response_headers, which also have `remove`. */
function isHeaderRules(value: object): boolean {
  return 'set' in value && 'add' in value && 'remove' in value;
}

function redact(value: unknown, headerMap: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => redact(item, false));
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  const rules = isHeaderRules(value);
  for (const [key, child] of Object.entries(value)) {
    const secret = SECRET_KEY.test(key) || (headerMap && SECRET_HEADER.test(key));
    copy[key] =
      secret && typeof child === 'string' && child !== ''
        ? REDACTED
        : redact(child, (rules && (key === 'set' || key === 'add')) || key === 'headers');
  }
  return copy;
}

/**
 * A notifier URL can be the secret itself (a Slack incoming webhook is a bearer URL): only its origin
 * is shown, and credentials in it never.
 */
export function redactUrl(href: string): string {
  try {
    const url = new URL(href);
    const hidden = url.pathname.length > 1 || url.search !== '';
    return `${url.protocol}//${url.host}${hidden ? `/${REDACTED}` : ''}`;
  } catch {
    return REDACTED;
  }
}

export function redactConfig(config: Config): unknown {
  const copy = redact(config, false) as Config;
  copy.alerts.notifiers = copy.alerts.notifiers.map((notifier) => ({ ...notifier, url: redactUrl(notifier.url) }));
  return copy;
}
