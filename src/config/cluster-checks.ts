import { type Check, field, itemsOf } from './check.js';

/** Cross-field checks of what a cluster needs. */

const clusterRateLimit: Check = {
  name: 'a cluster rate limit needs cluster.redis',
  run(data, reporter) {
    if (field(data, 'cluster', 'redis') !== undefined) return;
    itemsOf(field(data, 'routes')).forEach((route, index) => {
      if (field(route, 'rate_limit', 'scope') === 'cluster') {
        reporter.report(
          ['routes', index, 'rate_limit', 'scope'],
          'scope: cluster shares the limit through Redis: set cluster.redis (or use scope: local)',
        );
      }
    });
  },
};

export const clusterChecks: readonly Check[] = [clusterRateLimit];
