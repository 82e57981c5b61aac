/**
 * Route matching: host (exact, then `*.suffix` wildcards, longest first, then routes without a host),
 * then the longest path prefix, then method. Everything is compiled once per config; a match is a few
 * string compares and allocates nothing.
 *
 * A path prefix matches at a segment boundary: `/api` matches `/api`, `/api/v1` and `/api?x` but not
 * `/apix` (a prefix ending in `/` matches anything below it).
 */

export interface RouteMatchSpec {
  host?: string | undefined;
  path: string;
  methods?: readonly string[] | undefined;
}

interface Candidate<R> {
  prefix: string;
  methods: ReadonlySet<string> | null;
  route: R;
}

export class Router<R> {
  private readonly exact = new Map<string, Candidate<R>[]>();
  private readonly wildcards: Array<{ suffix: string; list: Candidate<R>[] }> = [];
  private readonly anyHost: Candidate<R>[] = [];

  constructor(routes: ReadonlyArray<{ match: RouteMatchSpec; route: R }>) {
    for (const { match, route } of routes) {
      const candidate: Candidate<R> = {
        prefix: match.path,
        methods: match.methods && match.methods.length > 0 ? new Set(match.methods) : null,
        route,
      };
      const host = match.host?.toLowerCase();
      if (host === undefined || host === '' || host === '*') {
        this.anyHost.push(candidate);
      } else if (host.startsWith('*.')) {
        const suffix = host.slice(1); // keeps the dot: ".example.com"
        let entry = this.wildcards.find((w) => w.suffix === suffix);
        if (!entry) this.wildcards.push((entry = { suffix, list: [] }));
        entry.list.push(candidate);
      } else {
        let list = this.exact.get(host);
        if (!list) this.exact.set(host, (list = []));
        list.push(candidate);
      }
    }
    const byPrefixLength = (a: Candidate<R>, b: Candidate<R>) => b.prefix.length - a.prefix.length;
    for (const list of this.exact.values()) list.sort(byPrefixLength);
    for (const w of this.wildcards) w.list.sort(byPrefixLength);
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    this.anyHost.sort(byPrefixLength);
  }

  /** `host` without port, any case; `target` in origin-form (may carry a query). */
  match(host: string, target: string, method: string): R | undefined {
    const lowerHost = host.toLowerCase();
    const exact = this.exact.get(lowerHost);
    if (exact) {
      const found = matchIn(exact, target, method);
      if (found !== undefined) return found;
    }
    for (const w of this.wildcards) {
      // `*.example.com` matches `a.example.com` and `a.b.example.com`, never `example.com` itself.
      if (lowerHost.length > w.suffix.length && lowerHost.endsWith(w.suffix)) {
        const found = matchIn(w.list, target, method);
        if (found !== undefined) return found;
      }
    }
    return matchIn(this.anyHost, target, method);
  }
}

function matchIn<R>(list: readonly Candidate<R>[], target: string, method: string): R | undefined {
  for (const c of list) {
    if (prefixMatches(c.prefix, target) && (c.methods === null || c.methods.has(method))) return c.route;
  }
  return undefined;
}

export function prefixMatches(prefix: string, target: string): boolean {
  if (!target.startsWith(prefix)) return false;
  if (target.length === prefix.length || prefix.endsWith('/')) return true;
  const next = target.charCodeAt(prefix.length);
  return next === 0x2f /* / */ || next === 0x3f /* ? */;
}

/** Host header value without its port (`[::1]:8080` → `[::1]`). */
export function hostWithoutPort(host: string): string {
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
