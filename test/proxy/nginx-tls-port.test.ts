/**
 * A plain-HTTP gateway aimed at a real nginx TLS port: nginx answers "400 The plain HTTP request was
 * sent to HTTPS port", which never reached the application behind it. Gatewise must not pass that 400
 * off as the application's answer: it becomes a 502 whose root cause is tls_mismatch.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { TEST_TLS_FIXTURES } from '../../src/drill/upstreams.js';
import { simpleConfig, startGateway } from '../support/gateway.js';
import { freePort, startNginx } from '../support/nginx.js';
import { get } from '../support/raw-client.js';

test('an upstream nginx answering "plain HTTP request was sent to HTTPS port" is a 502 tls_mismatch', async (t) => {
  const port = await freePort();
  const nginx = await startNginx(
    `  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${TEST_TLS_FIXTURES.server};
    ssl_certificate_key ${TEST_TLS_FIXTURES.serverKey};
    location / { return 200 "app\\n"; }
  }`,
    port,
  );
  t.after(() => nginx.stop());
  const gw = await startGateway(simpleConfig([`http://127.0.0.1:${port}`], '    retries: { attempts: 1 }'));
  t.after(() => gw.close());

  const reply = await get(gw.port, '/', { Accept: 'application/json' });
  assert.equal(reply.status, 502);
  const problem = JSON.parse(reply.body) as Record<string, unknown>;
  assert.equal(problem.cause, 'tls_mismatch');
  assert.equal(reply.headers.get('proxy-status'), 'gatewise; error=tls_protocol_error');
});
