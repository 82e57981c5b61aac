import { conditionKeys } from './alerts.js';
import { type Check, field, itemsOf, knownUpstreamCheck } from './check.js';

/** Cross-field checks of `alerts`: one condition per rule, known upstreams, one measure per ratio. */

const oneCondition: Check = {
  name: 'an alert rule has exactly one condition',
  run(data, reporter) {
    itemsOf(field(data, 'alerts', 'rules')).forEach((rule, index) => {
      if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) return;
      const set = conditionKeys.filter((key) => key in rule);
      if (set.length === 1) return;
      const path = ['alerts', 'rules', index];
      if (set.length === 0)
        reporter.report(path, `an alert rule needs one condition: ${conditionKeys.join(', ')}`, 'key');
      else reporter.report([...path, set[1]!], `an alert rule has one condition; this one also has ${set[0]}`, 'key');
    });
  },
};

const knownUpstream = knownUpstreamCheck('an alert rule names a known upstream', ['alerts', 'rules']);

const oneMeasure: Check = {
  name: 'an error ratio counts one thing',
  run(data, reporter) {
    itemsOf(field(data, 'alerts', 'rules')).forEach((rule, index) => {
      const ratio = field(rule, 'error_ratio');
      const set = ['status_class', 'error_type', 'cause'].filter((key) => field(ratio, key) !== undefined);
      if (set.length > 1) {
        reporter.report(
          ['alerts', 'rules', index, 'error_ratio', set[1]!],
          `error_ratio counts one of status_class, error_type or cause; this one also has ${set[0]}`,
          'key',
        );
      }
    });
  },
};

const uniqueNotifiers: Check = {
  name: 'notifier names are distinct',
  run(data, reporter) {
    const seen = new Map<string, number>();
    itemsOf(field(data, 'alerts', 'notifiers')).forEach((notifier, index) => {
      const name = field(notifier, 'name');
      if (typeof name !== 'string') return;
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        const line = reporter.lineOf(['alerts', 'notifiers', earlier, 'name']);
        reporter.report(
          ['alerts', 'notifiers', index, 'name'],
          `duplicate notifier name "${name}" (also on line ${line})`,
        );
      } else seen.set(name, index);
    });
  },
};

export const alertChecks: readonly Check[] = [oneCondition, knownUpstream, oneMeasure, uniqueNotifiers];
