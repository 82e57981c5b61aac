/**
 * `explain`: one log line in, the failure it records out, in Gatewise's taxonomy (RFC 9209 error type,
 * ranked root causes, what to check). The recognisers are a registry, tried in order; the first that
 * knows the line's format explains it. Codes found on a line go through Gatewise's own
 * classification table, so every format is judged by the same rules as Gatewise's own failures.
 */
import { alb } from './alb.js';
import { explanationOf } from './build.js';
import { caddy } from './caddy.js';
import { envoy } from './envoy.js';
import { gatewise } from './gatewise.js';
import { haproxy } from './haproxy.js';
import { ingressNginxController } from './ingress-nginx.js';
import { ingressNginxAccess, nginxAccess } from './nginx-access.js';
import { nginxError } from './nginx-error.js';
import { node } from './node.js';
import { traefik } from './traefik.js';
import type { Explanation, LineInput, Recogniser } from './types.js';

export type { Check, Confidence, Explanation, RankedCause, Recogniser, Source } from './types.js';
export { SOURCES } from './types.js';

/**
 * Most specific formats first: JSON formats by their own keys, then text formats with a distinctive
 * head, then the combined access format (shared by nginx, ingress-nginx and Traefik, whose own
 * additions are tried before plain nginx), and Node.js error texts last, as they may appear anywhere.
 */
export const RECOGNISERS: readonly Recogniser[] = [
  gatewise,
  nginxError,
  haproxy,
  alb,
  envoy,
  caddy,
  traefik,
  ingressNginxController,
  ingressNginxAccess,
  nginxAccess,
  node,
];

/** A container runtime's prefix (CRI log files: "2024-01-01T00:00:00.1Z stdout F "). */
const CRI_PREFIX = /^\d{4}-\d{2}-\d{2}T\S+ (?:stdout|stderr) [FP] /;

function inputOf(raw: string): LineInput {
  let line = raw.replace(/[\r\n]+$/, '').replace(CRI_PREFIX, '');
  let json = parseObject(line);
  // Docker's json-file driver wraps each line: {"log":"...\n","stream":"stderr","time":"..."}.
  if (json !== undefined && typeof json['log'] === 'string' && typeof json['stream'] === 'string') {
    line = json['log'].replace(/[\r\n]+$/, '');
    json = parseObject(line);
  }
  return { line, json };
}

function parseObject(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Explains one log line; a line no recogniser knows gets source 'unknown', cause 'other', low confidence. */
export function explainLine(line: string): Explanation {
  const input = inputOf(line);
  if (input.line.trim() !== '') {
    for (const recogniser of RECOGNISERS) {
      const finding = recogniser.recognise(input);
      if (finding !== undefined) return explanationOf(finding, line.replace(/[\r\n]+$/, ''));
    }
  }
  return unknown(line.replace(/[\r\n]+$/, ''));
}

function unknown(line: string): Explanation {
  return {
    source: 'unknown',
    error: null,
    causes: [{ cause: 'other', why: 'the line matches none of the formats explain knows' }],
    summary: line.trim() === '' ? 'empty line' : 'line not recognised',
    checks: [
      {
        what: 'Pass the whole line as the program wrote it: explain reads nginx (error and access), ingress-nginx, Envoy, HAProxy, Traefik, Caddy, AWS ALB, Node.js errors and Gatewise logs',
      },
    ],
    confidence: 'low',
    line,
  };
}
