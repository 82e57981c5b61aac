/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core): a failure is
 * injected, and its type, its root cause, the server's state change and the alert it fires must appear
 * on the live page.
 * A screenshot is saved to test-artifacts/dashboard.png.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { startUpstream } from '../../src/drill/upstreams.js';
import { makeNode, push } from '../cluster/nodes.js';
import { startEtcd } from '../support/etcd.js';
import { freePort } from '../support/nginx.js';
import { get } from '../support/raw-client.js';
import { startService } from '../support/service.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

/** A page in Debian's headless Chromium, closed with the test. */
async function openPage(t: TestContext): Promise<Page> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(() => browser.close());
  return browser.newPage({ viewport: { width: 1400, height: 900 } });
}

test('the dashboard shows a failure, its cause and the server going down', async (t) => {
  const good = await startUpstream('ok', { name: 'good' });
  const bad = await startUpstream('refuse');
  t.after(() => good.close());
  t.after(() => bad.close());
  const { port, admin } = await startService(
    t,
    `upstreams:
  shop:
    servers: [{ url: ${good.url} }, { url: ${bad.url} }]
    health: { passive: { failures: 2, eject_for: 60s } }
routes:
  - match: { path: / }
    upstream: shop
alerts:
  evaluate_every: 100ms
  rules: [{ name: ShopServerOut, server_unhealthy: {}, severity: critical }]
`,
  );

  const page = await openPage(t);
  await page.goto(`${admin}/`);
  await page.waitForSelector('#conn.live');
  const badRow = page.locator(`#servers tr[data-server="${bad.url}"] .state`);
  assert.equal(await badRow.textContent(), 'up');

  // Inject the failure: requests reach the refusing server until passive health ejects it.
  for (let i = 0; i < 8; i++) assert.equal((await get(port, '/health')).status, 200);

  await page.waitForFunction(
    `document.querySelector('#servers tr[data-server="${bad.url}"] .state')?.textContent === 'ejected'`,
    undefined,
    { timeout: 10000 },
  );
  await page.waitForSelector('#failures tbody tr', { timeout: 10000 });
  assert.equal(await page.locator('#failures tbody tr .type').first().textContent(), 'connection_refused');
  assert.equal(await page.locator('#failures tbody tr .cause').first().textContent(), 'backend_down');
  // Opening a failure shows everything known about it.
  await page.locator('#failures tbody tr').first().click();
  const detail = await page.locator('#detail').textContent();
  assert.match(detail ?? '', /ECONNREFUSED/);
  assert.match(detail ?? '', new RegExp(`127\\.0\\.0\\.1:${bad.port}`));
  assert.match((await page.locator('#events').textContent()) ?? '', /ejected/);
  // The ejection fires the alert, which the page shows with its server.
  await page.waitForSelector('#alerts .firing', { timeout: 10000 });
  const alerts = (await page.locator('#alerts').textContent()) ?? '';
  assert.match(alerts, /FIRING ShopServerOut critical · shop \/ 127\.0\.0\.1:\d+/);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
});

test('managed processes appear with their state, restarts and last exit; a click shows their output', async (t) => {
  const port = await freePort();
  const code = `console.log('booting'); require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, process.env.HOST)`;
  const { service, admin } = await startService(
    t,
    `upstreams:
  app:
    servers: [{ url: http://127.0.0.1:${port}, run: { command: ${JSON.stringify(process.execPath)}, args: [-e, ${JSON.stringify(code)}], stop_timeout: 1s, restart: { backoff: { initial: 50ms } } } }]
routes: [{ match: { path: / }, upstream: app }]
`,
  );
  const page = await openPage(t);
  await page.goto(`${admin}/`);
  await page.waitForSelector('#conn.live');
  await page.waitForFunction(
    `document.querySelector('#processes tbody tr .state')?.textContent === 'ready'`,
    undefined,
    {
      timeout: 10000,
    },
  );
  const pid = service.supervisor.list()[0]!.pid!;
  process.kill(pid, 'SIGKILL');
  await page.waitForFunction(
    `document.querySelector('#processes tbody tr')?.textContent.includes('killed by SIGKILL')`,
    undefined,
    { timeout: 10000 },
  );
  const row = (await page.locator('#processes tbody tr').textContent()) ?? '';
  assert.match(row, new RegExp(`^app / 127\\.0\\.0\\.1:${port}`));
  assert.match(row, /killed/);
  await page.locator('#processes tbody tr').click();
  assert.match((await page.locator('#proc-lines').textContent()) ?? '', /booting/);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}dashboard-processes.png`, fullPage: true });
});

test("on a cluster node, the dashboard lists every node's record and revision", async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const backend = await startUpstream('ok', { name: 'a' });
  t.after(() => backend.close());
  const revision = await push(
    t,
    etcd.url,
    `upstreams:\n  api: { servers: [{ url: ${backend.url} }] }\nroutes: [{ upstream: api }]\n`,
  );
  const node = await makeNode(t, 'gw-dash', etcd.url);
  await node.start();
  const page = await openPage(t);
  await page.goto(`http://127.0.0.1:${node.adminPort}/`);
  await page.waitForSelector('#cluster tbody tr', { timeout: 10000 });
  const row = (await page.locator('#cluster tbody tr').first().textContent()) ?? '';
  assert.match(row, new RegExp(`^gw-dashok${revision} / ${revision}[0-9a-f]{16}`));
});
