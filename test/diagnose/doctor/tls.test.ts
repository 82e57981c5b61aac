/** The tls check against real servers: mismatches both ways, certificates, and SNI. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tls from 'node:tls';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import { TEST_CA_PATH, TEST_TLS_FIXTURES } from '../../../src/drill/upstreams.js';
import { findingsOf, gatewiseConfig, nginxConfig, problemOf, upstream } from './support.js';

const OPTIONS = { checks: ['tls'], timeoutMs: 1000 } as const;
const TRUST_TEST_CA = `    tls: { ca: ${TEST_CA_PATH} }`;

test('http:// aimed at a TLS port: critical tls_mismatch, with the handshake and the plain answer as evidence', async (t) => {
  const secure = await upstream(t, 'tls');
  const config = gatewiseConfig(t, { api: { servers: [`http://127.0.0.1:${secure.port}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'tls', `127.0.0.1:${secure.port}`);
  assert.equal(found.severity, 'critical');
  assert.equal(found.cause, 'tls_mismatch');
  assert.equal(found.title, `http:// target 127.0.0.1:${secure.port} speaks TLS`);
  assert.ok(
    found.evidence.some((line) => /TLS handshake with .* completed \(TLSv1\.[23]\)/.test(line)),
    found.evidence.join('\n'),
  );
  assert.ok(found.evidence.some((line) => line.startsWith('plain HTTP request ')));
});

test('http:// aimed at a TLS port that answers plain HTTP with a 400 (Go, Caddy): tls_mismatch', async (t) => {
  const go = await upstream(t, 'plain_to_tls_400');
  const config = gatewiseConfig(t, { api: { servers: [`http://127.0.0.1:${go.port}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'tls', `127.0.0.1:${go.port}`);
  assert.equal(found.cause, 'tls_mismatch');
  assert.ok(
    found.evidence.some((line) => line.includes('answered "HTTP/1.0 400 Bad Request"')),
    found.evidence.join('\n'),
  );
});

test('https:// aimed at a plain-HTTP port: critical tls_mismatch, the plain answer as evidence', async (t) => {
  const plain = await upstream(t, 'ok');
  const config = gatewiseConfig(t, { api: { servers: [`https://127.0.0.1:${plain.port}`] } });
  const report = await runDoctor({ config, ...OPTIONS });
  const found = problemOf(report, 'tls', `127.0.0.1:${plain.port}`);
  assert.equal(found.cause, 'tls_mismatch');
  assert.equal(found.title, `https:// target 127.0.0.1:${plain.port} speaks plain HTTP`);
  assert.ok(
    found.evidence.some((line) => line.includes('answered "HTTP/1.1 200 OK"')),
    found.evidence.join('\n'),
  );
  assert.ok(found.evidence.some((line) => /SSL_do_handshake\(\) failed/.test(line)));
});

test('plain and TLS targets as configured are ok; a trusted certificate is verified', async (t) => {
  const plain = await upstream(t, 'ok');
  const secure = await upstream(t, 'tls');
  const config = gatewiseConfig(t, {
    plain: { servers: [plain.url] },
    secure: { servers: [secure.url], extra: TRUST_TEST_CA },
  });
  const report = await runDoctor({ config, ...OPTIONS });
  assert.deepEqual(
    report.findings.map((found) => [found.severity, found.title]),
    [
      ['ok', `127.0.0.1:${plain.port} does not speak TLS, as configured`],
      ['ok', `127.0.0.1:${secure.port}: TLSv1.3, certificate valid and verified`],
    ],
  );
});

for (const [behaviour, problem] of [
  ['tls_self_signed', /certificate chain does not verify: DEPTH_ZERO_SELF_SIGNED_CERT/],
  ['tls_expired', /certificate expired on 2021-01-01/],
  ['tls_wrong_host', /certificate does not match "127\.0\.0\.1"/],
] as const) {
  test(`a verifying gateway and a ${behaviour} certificate: critical tls_config`, async (t) => {
    const server = await upstream(t, behaviour);
    const config = gatewiseConfig(t, { api: { servers: [server.url], extra: TRUST_TEST_CA } });
    const report = await runDoctor({ config, ...OPTIONS });
    const found = problemOf(report, 'tls', `127.0.0.1:${server.port}`);
    assert.equal(found.severity, 'critical');
    assert.equal(found.cause, 'tls_config');
    assert.match(found.title, problem);
  });
}

test('nginx does not verify by default: a self-signed certificate is info, not a 502', async (t) => {
  const server = await upstream(t, 'tls_self_signed');
  const file = nginxConfig(t, `  server { location / { proxy_pass https://127.0.0.1:${server.port}; } }`);
  const report = await runDoctor({ nginx: file, ...OPTIONS });
  const [found] = findingsOf(report, 'tls');
  assert.equal(found!.severity, 'info');
  assert.match(found!.title, /self-signed|SELF_SIGNED/i);
  assert.ok(found!.evidence.some((line) => line.includes('proxy_ssl_verify is off')));
  assert.equal(report.status, 'healthy');
});

test('nginx sends no SNI by default, and the server answers without SNI with another certificate', async (t) => {
  const server = tls.createServer({
    cert: readFileSync(TEST_TLS_FIXTURES.wrongHost),
    key: readFileSync(TEST_TLS_FIXTURES.wrongHostKey),
    SNICallback: (name, done) =>
      done(
        null,
        name === 'localhost'
          ? tls.createSecureContext({
              cert: readFileSync(TEST_TLS_FIXTURES.server),
              key: readFileSync(TEST_TLS_FIXTURES.serverKey),
            })
          : undefined,
      ),
  });
  server.on('secureConnection', (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const file = nginxConfig(
    t,
    `  upstream localhost { server 127.0.0.1:${port}; }
  server { location / { proxy_ssl_verify on; proxy_ssl_trusted_certificate ${TEST_CA_PATH}; proxy_pass https://localhost; } }`,
  );
  const report = await runDoctor({ nginx: file, ...OPTIONS });
  const sni = findingsOf(report, 'tls').find((found) => found.title.includes('without SNI'));
  assert.ok(sni, JSON.stringify(report.findings, null, 2));
  assert.equal(sni.severity, 'critical');
  assert.equal(sni.cause, 'tls_config');
  assert.ok(sni.evidence.includes('without SNI: [wrong.example]'));
  assert.match(sni.fix!, /proxy_ssl_server_name on/);
});
