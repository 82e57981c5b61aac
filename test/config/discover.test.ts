/** The `discover` key of an upstream: its fields, and how it stands with `servers`. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfigText } from '../../src/config/index.js';
import { formatProblem } from '../../src/errors.js';

function check(upstream: string): string[] {
  const text = `listen: [{ address: 127.0.0.1:8080 }]
upstreams:
  api:
${upstream}
routes:
  - upstream: api
`;
  return checkConfigText(text, 'discover.yaml', {}).problems.map(formatProblem);
}

test('discover alone is an upstream: servers may be left out, the defaults apply', () => {
  const text = `listen: [{ address: 127.0.0.1:8080 }]
upstreams:
  api:
    discover: { srv: _http._tcp.api.default.svc.cluster.local }
routes:
  - upstream: api
`;
  const { config, problems } = checkConfigText(text, 'discover.yaml', {});
  assert.deepEqual(problems, []);
  assert.deepEqual(config!.upstreams.api!.servers, []);
  assert.deepEqual(config!.upstreams.api!.discover, {
    srv: '_http._tcp.api.default.svc.cluster.local',
    scheme: 'http',
    interval: 30_000,
  });
});

test('discover beside listed servers: all of them may be backups', () => {
  assert.deepEqual(
    check(`    discover: { srv: _api._tcp.example.com., scheme: https, interval: 5s }
    servers:
      - { url: "http://127.0.0.1:5001", backup: true }`),
    [],
  );
  // Without discover, a list of backups only is still refused.
  assert.deepEqual(check(`    servers:\n      - { url: "http://127.0.0.1:5001", backup: true }`), [
    'discover.yaml:4:5: every server of upstream "api" is a backup; at least one must not be',
  ]);
});

test('neither servers nor discover: the upstream is refused where it is written', () => {
  assert.deepEqual(check('    balance: round_robin'), ['discover.yaml:4:5: missing required key "servers"']);
  assert.deepEqual(check('    servers: []'), ['discover.yaml:4:14: an upstream needs at least one server']);
});

test('discover fields are checked: the SRV name, the scheme, the interval', () => {
  assert.deepEqual(check('    discover: { srv: "not a name" }'), [
    'discover.yaml:4:22: expected an SRV name like _http._tcp.api.default.svc.cluster.local, got "not a name"',
  ]);
  assert.deepEqual(check('    discover: { srv: a..b }'), [
    'discover.yaml:4:22: expected an SRV name like _http._tcp.api.default.svc.cluster.local, got "a..b"',
  ]);
  const [scheme] = check('    discover: { srv: _http._tcp.api, scheme: h2c }');
  assert.match(scheme ?? '', /^discover\.yaml:4:\d+: expected one of http, https; got "h2c"/);
  // Below 100ms: refused (a lookup storm helps nobody).
  const [interval] = check('    discover: { srv: _http._tcp.api, interval: 10ms }');
  assert.match(interval ?? '', /^discover\.yaml:4:48: expected a duration .*"10ms"/);
  assert.deepEqual(check('    discover: { srv: _http._tcp.api, interval: 100ms }'), []);
  assert.deepEqual(check('    discover: { service: api }'), [
    'discover.yaml:4:15: missing required key "srv"',
    'discover.yaml:4:17: unknown key "service"',
  ]);
});
