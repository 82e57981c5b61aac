/**
 * The start of a config for alert tests: one upstream `api` on `url`, checked every 100 ms (one failed
 * check takes the server out, one pass brings it back), one route, and an `alerts:` block without the
 * built-in rules, evaluated every 50 ms. The test appends the rest of the alerts block (indented by two).
 */
export function checkedApi(url: string): string {
  return `upstreams:
  api:
    servers: [{ url: ${url} }]
    health: { active: { interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 } }
routes: [{ match: { path: / }, upstream: api }]
alerts:
  default_rules: false
  evaluate_every: 50ms
`;
}
