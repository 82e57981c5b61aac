import { type Check, entriesOf, field, itemsOf } from './check.js';

/** Cross-field checks of managed servers (`servers[].run`). */

const distinctAddresses: Check = {
  name: 'managed servers listen on distinct addresses',
  run(data, reporter) {
    const seen = new Map<string, Array<string | number>>();
    for (const [name, upstream] of entriesOf(field(data, 'upstreams'))) {
      itemsOf(field(upstream, 'servers')).forEach((server, index) => {
        const url = field(server, 'url');
        if (field(server, 'run') === undefined || typeof url !== 'string') return;
        const path = ['upstreams', name, 'servers', index, 'run'];
        const earlier = seen.get(url);
        if (earlier !== undefined) {
          const line = reporter.lineOf(earlier);
          reporter.report(
            path,
            `another managed server already runs on ${url} (line ${line}): two processes cannot listen there`,
            'key',
          );
        } else seen.set(url, path);
      });
    }
  },
};

export const runChecks: readonly Check[] = [distinctAddresses];
