import type { z } from 'zod';
import { type Check, type CheckReporter, entriesOf, field } from './check.js';
import type { PathSegment } from './positions.js';
import {
  activeHealthSchema,
  breakerSchema,
  passiveHealthSchema,
  retryBackoffSchema,
  upstreamLimitsSchema,
} from './resilience.js';
import { formatDuration } from './units.js';

/**
 * Cross-field checks of the resilience settings. Like those of check.ts they read the raw data, and
 * each value goes through its own field's schema, so a default applies where the key is absent and
 * a value the schema rejects is left to the schema's own problem.
 */

type AnyObject = z.ZodObject<z.ZodRawShape>;

interface Setting<T> {
  value: T;
  written: boolean;
}

function isMap(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value of `key` in a raw section as the schema reads it (its default when absent); undefined when invalid. */
function setting<S extends AnyObject, K extends keyof S['shape'] & string>(
  schema: S,
  section: unknown,
  key: K,
): Setting<z.output<S['shape'][K]>> | undefined {
  const raw = field(section, key);
  const parsed = (schema.shape[key] as z.ZodType<z.output<S['shape'][K]>>).safeParse(raw);
  return parsed.success ? { value: parsed.data, written: raw !== undefined } : undefined;
}

function forEachUpstreamSection(
  data: unknown,
  at: readonly PathSegment[],
  visit: (section: unknown, path: PathSegment[]) => void,
): void {
  for (const [name, upstream] of entriesOf(field(data, 'upstreams'))) {
    const section = field(upstream, ...at);
    if (isMap(section)) visit(section, ['upstreams', name, ...at]);
  }
}

interface OrderedDurations<S extends AnyObject> {
  name: string;
  at: readonly PathSegment[];
  schema: S;
  low: keyof S['shape'] & string;
  high: keyof S['shape'] & string;
  /** How the two keys are named in the message. */
  lowName: string;
  highName: string;
}

/** `low` must not exceed `high`; the problem points at whichever of the two was written. */
function orderedDurations<S extends AnyObject>(pair: OrderedDurations<S>): Check {
  return {
    name: pair.name,
    run(data: unknown, reporter: CheckReporter) {
      forEachUpstreamSection(data, pair.at, (section, path) => {
        const low = setting(pair.schema, section, pair.low) as Setting<number> | undefined;
        const high = setting(pair.schema, section, pair.high) as Setting<number> | undefined;
        if (low === undefined || high === undefined || low.value <= high.value) return;
        const shown = (entry: Setting<number>) =>
          `${formatDuration(entry.value)}${entry.written ? '' : ', the default'}`;
        if (low.written) {
          const fix = high.written ? '' : `: raise ${pair.high} or lower ${pair.low}`;
          reporter.report(
            [...path, pair.low],
            `${pair.lowName} (${shown(low)}) must not exceed ${pair.highName} (${shown(high)})${fix}`,
          );
        } else {
          reporter.report(
            [...path, pair.high],
            `${pair.highName} (${shown(high)}) must not be below ${pair.lowName} (${shown(low)})`,
          );
        }
      });
    },
  };
}

const backoffOrder = orderedDurations({
  name: 'retry backoff base does not exceed its max',
  at: ['retries', 'backoff'],
  schema: retryBackoffSchema,
  low: 'base',
  high: 'max',
  lowName: 'backoff base',
  highName: 'backoff max',
});

const breakerOpenOrder = orderedDurations({
  name: 'breaker open_for does not exceed max_open_for',
  at: ['breaker'],
  schema: breakerSchema,
  low: 'open_for',
  high: 'max_open_for',
  lowName: 'breaker open_for',
  highName: 'breaker max_open_for',
});

const ejectOrder = orderedDurations({
  name: 'passive eject_for does not exceed max_eject_for',
  at: ['health', 'passive'],
  schema: passiveHealthSchema,
  low: 'eject_for',
  high: 'max_eject_for',
  lowName: 'eject_for',
  highName: 'max_eject_for',
});

const queueNeedsLimit: Check = {
  name: 'a queue needs max_inflight',
  run(data, reporter) {
    forEachUpstreamSection(data, ['limits'], (limits, path) => {
      const queue = setting(upstreamLimitsSchema, limits, 'queue');
      const maxInflight = setting(upstreamLimitsSchema, limits, 'max_inflight');
      if (queue !== undefined && maxInflight !== undefined && queue.value > 0 && maxInflight.value === 0) {
        reporter.report(
          [...path, 'queue'],
          'queue needs max_inflight > 0 (requests wait only when max_inflight is reached)',
        );
      }
    });
  },
};

/** Keys of an active check that only an HTTP check reads. */
const HTTP_ONLY_KEYS = ['path', 'method', 'headers', 'expect_status', 'expect_body', 'expect_json'] as const;

const tcpCheckKeys: Check = {
  name: 'a tcp health check sets no HTTP keys',
  run(data, reporter) {
    forEachUpstreamSection(data, ['health', 'active'], (active, path) => {
      if (setting(activeHealthSchema, active, 'type')?.value !== 'tcp') return;
      for (const key of HTTP_ONLY_KEYS) {
        if (field(active, key) !== undefined) {
          reporter.report([...path, key], `${key} does not apply to type tcp (tcp checks only connect)`, 'key');
        }
      }
    });
  },
};

export const resilienceChecks: readonly Check[] = [
  tcpCheckKeys,
  ejectOrder,
  backoffOrder,
  breakerOpenOrder,
  queueNeedsLimit,
];
