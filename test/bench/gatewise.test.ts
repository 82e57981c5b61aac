import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parse } from 'yaml';
import { gatewiseConfig } from '../../bench/lib/gatewise.js';

test('the generated config has the reference shape, with the access log in a file', () => {
  const config = parse(
    gatewiseConfig({
      port: 8080,
      adminPort: 9090,
      backendPort: 5001,
      accessLogFile: '/tmp/a b/access.log',
      maxIdle: 256,
    }),
  );
  assert.deepEqual(config, {
    listen: [{ address: '127.0.0.1:8080' }],
    admin: { address: '127.0.0.1:9090' },
    log: { file: '/tmp/a b/access.log' },
    upstreams: { bench: { servers: [{ url: 'http://127.0.0.1:5001' }], keepalive: { max_idle: 256 } } },
    routes: [{ match: { path: '/' }, upstream: 'bench' }],
  });
});

test('the access log can be switched off', () => {
  const config = parse(gatewiseConfig({ port: 1, adminPort: 2, backendPort: 3, accessLogFile: null, maxIdle: 8 }));
  assert.deepEqual(config.log, { access: false });
  assert.deepEqual(config.upstreams.bench.keepalive, { max_idle: 8 });
});
