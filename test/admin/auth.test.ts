/** The admin API's bearer token: required when set, compared in constant time; refused without it. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkConfigText, parseConfigText } from '../../src/config/index.js';
import { Service } from '../../src/service.js';

const BASE = `listen: [{ address: 127.0.0.1:0 }]
log: { access: false, level: error }
upstreams:
  api: { servers: [{ url: http://127.0.0.1:9 }] }
routes:
  - match: { path: / }
    upstream: api
`;

test('with a token, the admin API refuses requests without it or with a wrong one', async (t) => {
  const service = new Service({
    config: parseConfigText(`${BASE}admin: { address: 127.0.0.1:0, token: s3cret-token }\n`, 'auth.yaml'),
  });
  await service.start();
  t.after(() => service.stop());
  const url = `http://${service.adminAddress}/api/status`;
  const none = await fetch(url);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer s3cret-tokem' } })).status, 401);
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer s3cret' } })).status, 401);
  assert.equal((await fetch(url, { headers: { authorization: 'Basic s3cret-token' } })).status, 401);
  const ok = await fetch(url, { headers: { authorization: 'Bearer s3cret-token' } });
  assert.equal(ok.status, 200);
  // The effective config never shows the token.
  const config = await (
    await fetch(`http://${service.adminAddress}/api/config`, { headers: { authorization: 'Bearer s3cret-token' } })
  ).text();
  assert.ok(!config.includes('s3cret-token'));
});

test('an admin address off loopback without a token is refused at check time', () => {
  const { problems } = checkConfigText(`${BASE}admin: { address: 0.0.0.0:9090 }\n`, 'auth.yaml');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /token/);
});

test('the liveness and readiness probes answer without the token and say nothing else', async (t) => {
  const service = new Service({
    config: parseConfigText(`${BASE}admin: { address: 127.0.0.1:0, token: s3cret-token }\n`, 'auth.yaml'),
  });
  await service.start();
  t.after(() => service.stop());
  const base = `http://${service.adminAddress}`;
  const live = await fetch(`${base}/healthz`);
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { status: 'ok' });
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true });
  // Only those two: a query string does not open another route, nor another method.
  assert.equal((await fetch(`${base}/api/status?x=/healthz`)).status, 401);
  assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 401);
  // While the gateway drains (shutting down) the node is not ready.
  service.gateway.ctx.draining = true;
  const draining = await fetch(`${base}/readyz`);
  service.gateway.ctx.draining = false;
  assert.equal(draining.status, 503);
  assert.deepEqual(await draining.json(), { ready: false, reason: 'shutting down' });
});
