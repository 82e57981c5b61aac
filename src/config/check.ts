import { type HostPort, isLoopbackHost, isWildcardHost, parseHostPort, parseServerUrl } from './addresses.js';
import type { PathSegment } from './positions.js';
import { activeHealthSchema } from './resilience.js';
import { adminSchema } from './schema.js';
import { didYouMean } from './suggest.js';
import { formatDuration, parseDuration } from './units.js';

/**
 * Checks that span several fields, run on the raw (env-expanded) data rather than the validated
 * config, so that they still report when some unrelated field is invalid: `gatewise check`
 * lists every problem in one run. Each check skips whatever the schema already rejects.
 */

export interface CheckReporter {
  /** `at` chooses whether the problem points at the key or at the value of `path`. */
  report(path: readonly PathSegment[], message: string, at?: 'key' | 'value'): void;
  /** The line a path starts on, for messages that name another place in the file. */
  lineOf(path: readonly PathSegment[]): number;
}

export interface Check {
  readonly name: string;
  run(data: unknown, reporter: CheckReporter): void;
}

export function field(value: unknown, ...path: readonly PathSegment[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}

export function entriesOf(value: unknown): Array<[string, unknown]> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];
}

export function itemsOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function stringAt(value: unknown, ...path: readonly PathSegment[]): string | undefined {
  const found = field(value, ...path);
  return typeof found === 'string' ? found : undefined;
}

function tryParse<T>(parse: (text: string) => T, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch {
    return undefined; // the schema reports the bad value itself
  }
}

function overlaps(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  if (a.host === b.host || a.host === '::' || b.host === '::') return true;
  // 0.0.0.0 takes every IPv4 address on the port; IPv6 addresses are not its concern.
  return (a.host === '0.0.0.0' && !b.host.includes(':')) || (b.host === '0.0.0.0' && !a.host.includes(':'));
}

const defaultAdmin = adminSchema.parse({});
const defaultActiveHealth = activeHealthSchema.parse({});

/**
 * Every `upstream` key of the items of `list` (routes, alert rules) names an upstream of the config.
 * Quiet when the config has no upstreams (the schema says so).
 */
export function knownUpstreamCheck(name: string, list: readonly PathSegment[]): Check {
  return {
    name,
    run(data, reporter) {
      const names = entriesOf(field(data, 'upstreams')).map(([upstream]) => upstream);
      if (names.length === 0) return;
      itemsOf(field(data, ...list)).forEach((item, index) => {
        const upstream = stringAt(item, 'upstream');
        if (upstream !== undefined && !names.includes(upstream)) {
          reporter.report([...list, index, 'upstream'], `unknown upstream "${upstream}"${didYouMean(upstream, names)}`);
        }
      });
    },
  };
}

const routeUpstreams = knownUpstreamCheck('route names a known upstream', ['routes']);

const listenAddresses: Check = {
  name: 'listen addresses are distinct, and distinct from the admin address',
  run(data, reporter) {
    const seen: Array<{ address: string; parsed: HostPort; index: number }> = [];
    itemsOf(field(data, 'listen')).forEach((listener, index) => {
      const address = stringAt(listener, 'address');
      const parsed = tryParse(parseHostPort, address);
      if (address === undefined || parsed === undefined) return;
      const earlier = seen.find((other) => overlaps(other.parsed, parsed));
      if (earlier !== undefined) {
        const line = reporter.lineOf(['listen', earlier.index, 'address']);
        const what = earlier.address === address ? 'also on' : `overlaps "${earlier.address}" on`;
        reporter.report(['listen', index, 'address'], `duplicate listen address "${address}" (${what} line ${line})`);
      }
      seen.push({ address, parsed, index });
    });
    const written = stringAt(data, 'admin', 'address');
    const admin = tryParse(parseHostPort, written ?? defaultAdmin.address);
    const clash = admin === undefined ? undefined : seen.find((listener) => overlaps(listener.parsed, admin));
    if (clash === undefined) return;
    if (written !== undefined) {
      const line = reporter.lineOf(['listen', clash.index, 'address']);
      reporter.report(['admin', 'address'], `admin address "${written}" is also a listen address (line ${line})`);
    } else {
      reporter.report(
        ['listen', clash.index, 'address'],
        `listen address "${clash.address}" is the admin address (admin.address defaults to ${defaultAdmin.address})`,
      );
    }
  },
};

const adminToken: Check = {
  name: 'a non-loopback admin address requires a token',
  run(data, reporter) {
    const written = stringAt(data, 'admin', 'address');
    const admin = tryParse(parseHostPort, written);
    const token = field(data, 'admin', 'token');
    if (admin === undefined || isLoopbackHost(admin.host) || (typeof token === 'string' && token !== '')) return;
    if (token !== undefined && typeof token !== 'string') return;
    const where = isWildcardHost(admin.host) ? 'every interface' : `"${admin.host}", which is not loopback`;
    reporter.report(
      ['admin', 'address'],
      `admin listens on ${where}: set admin.token (for example token: \${GATEWISE_ADMIN_TOKEN})`,
    );
  },
};

function forEachUpstream(data: unknown, visit: (upstream: unknown, path: PathSegment[]) => void): void {
  for (const [name, upstream] of entriesOf(field(data, 'upstreams'))) visit(upstream, ['upstreams', name]);
}

const hashHeader: Check = {
  name: 'header_hash names its header',
  run(data, reporter) {
    forEachUpstream(data, (upstream, path) => {
      const header = field(upstream, 'hash_header');
      if (field(upstream, 'balance') === 'header_hash' && (header === undefined || header === '')) {
        reporter.report([...path, 'balance'], 'balance header_hash needs hash_header (the request header to hash)');
      }
    });
  },
};

const serversOrDiscover: Check = {
  name: 'an upstream lists servers or discovers them',
  run(data, reporter) {
    forEachUpstream(data, (upstream, path) => {
      const isMap = upstream !== null && typeof upstream === 'object' && !Array.isArray(upstream);
      if (!isMap || field(upstream, 'discover') !== undefined) return; // a non-map is the schema's problem
      const servers = field(upstream, 'servers');
      if (servers === undefined) reporter.report(path, 'missing required key "servers"');
      else if (Array.isArray(servers) && servers.length === 0)
        reporter.report([...path, 'servers'], 'an upstream needs at least one server');
    });
  },
};

const primaryServer: Check = {
  name: 'an upstream has a primary server',
  run(data, reporter) {
    forEachUpstream(data, (upstream, path) => {
      // The servers discover finds are primaries: listed ones may all be backups behind them.
      if (field(upstream, 'discover') !== undefined) return;
      const servers = itemsOf(field(upstream, 'servers'));
      if (servers.length > 0 && servers.every((server) => field(server, 'backup') === true)) {
        reporter.report(
          [...path, 'servers'],
          `every server of upstream "${path[1]}" is a backup; at least one must not be`,
          'key',
        );
      }
    });
  },
};

const serverTls: Check = {
  name: 'per-server tls only on https servers',
  run(data, reporter) {
    forEachUpstream(data, (upstream, path) => {
      itemsOf(field(upstream, 'servers')).forEach((server, index) => {
        const target = tryParse(parseServerUrl, stringAt(server, 'url'));
        if (field(server, 'tls') !== undefined && target !== undefined && target.kind !== 'https') {
          reporter.report([...path, 'servers', index, 'tls'], 'tls applies only to https:// servers', 'key');
        }
      });
    });
  },
};

const healthTimeout: Check = {
  name: 'an active health check times out before the next one starts',
  run(data, reporter) {
    forEachUpstream(data, (upstream, path) => {
      const active = field(upstream, 'health', 'active');
      if (active === undefined || active === null) return;
      const timeoutText = stringAt(active, 'timeout');
      const intervalText = stringAt(active, 'interval');
      const timeout = timeoutText === undefined ? defaultActiveHealth.timeout : tryParse(parseDuration, timeoutText);
      const interval =
        intervalText === undefined ? defaultActiveHealth.interval : tryParse(parseDuration, intervalText);
      if (timeout !== undefined && interval !== undefined && timeout > interval) {
        const key = timeoutText === undefined ? 'interval' : 'timeout';
        reporter.report(
          [...path, 'health', 'active', key],
          `health check timeout (${formatDuration(timeout)}) must not exceed its interval (${formatDuration(interval)})`,
        );
      }
    });
  },
};

const rewriteOrStrip: Check = {
  name: 'strip_prefix and rewrite_prefix are exclusive',
  run(data, reporter) {
    itemsOf(field(data, 'routes')).forEach((route, index) => {
      const rewrite = field(route, 'rewrite_prefix');
      if (field(route, 'strip_prefix') === true && typeof rewrite === 'string' && rewrite !== '') {
        reporter.report(
          ['routes', index, 'rewrite_prefix'],
          'strip_prefix and rewrite_prefix cannot both be set',
          'key',
        );
      }
    });
  },
};

/** The cross-field checks, in the order their problems are most useful to read. */
export const checks: readonly Check[] = [
  listenAddresses,
  adminToken,
  hashHeader,
  serversOrDiscover,
  primaryServer,
  serverTls,
  healthTimeout,
  routeUpstreams,
  rewriteOrStrip,
];
