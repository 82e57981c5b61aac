import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText, REDACTED, redactConfig } from '../../src/config/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
process.chdir(repoRoot);
const file = 'test/fixtures/config/full.yaml';

test('secrets are replaced, everything else is kept, and the config itself is untouched', () => {
  const config = parseConfigText(readFileSync(file, 'utf8'), file, {});
  const before = structuredClone(config);
  const shown = redactConfig(config) as typeof config;
  assert.equal(shown.admin.token, REDACTED);
  assert.equal(shown.routes[0]?.request_headers.set['Authorization'], REDACTED);
  assert.equal(shown.routes[0]?.request_headers.set['X-Port'], '443');
  assert.equal(shown.routes[0]?.request_headers.add['X-Gateway'], 'gatewise');
  assert.equal(shown.listen[1]?.tls?.key, config.listen[1]?.tls?.key, 'a key file path is not a secret');
  assert.equal(shown.upstreams['api']?.hash_header, 'x-user');
  assert.equal(shown.admin.address, '127.0.0.1:9191');
  assert.deepEqual(shown.upstreams['api']?.health.active?.headers, {
    Host: 'health.internal',
    'X-Probe': '1',
    Authorization: REDACTED,
  });
  assert.deepEqual(config, before);
  assert.ok(!JSON.stringify(shown).includes('s3cret-admin-token'));
  assert.ok(!JSON.stringify(shown).includes('upstream-secret'));
  assert.ok(!JSON.stringify(shown).includes('cHJvYmU6cHJvYmU='), 'health check credentials are redacted');
});

test('credential headers and secret-named keys are redacted wherever they appear', () => {
  const text = `
listen: [ { address: "127.0.0.1:8080" } ]
upstreams: { api: { servers: [ { url: "http://127.0.0.1:1" } ] } }
routes:
  - upstream: api
    request_headers:
      set: { Cookie: "a=b", X-Api-Key: k1, X-Auth-Token: t1, Accept: text/html }
      add: { Proxy-Authorization: Basic eHg= }
    response_headers:
      set: { Set-Cookie: "s=1" }
`;
  const config = parseConfigText(text, 'inline.yaml', {});
  const shown = redactConfig(config) as typeof config;
  const route = shown.routes[0]!;
  assert.deepEqual(route.request_headers.set, {
    Cookie: REDACTED,
    'X-Api-Key': REDACTED,
    'X-Auth-Token': REDACTED,
    Accept: 'text/html',
  });
  assert.deepEqual(route.request_headers.add, { 'Proxy-Authorization': REDACTED });
  assert.deepEqual(route.response_headers.set, { 'Set-Cookie': REDACTED });
  assert.equal('token' in shown.admin, false, 'an absent token stays absent');
});
