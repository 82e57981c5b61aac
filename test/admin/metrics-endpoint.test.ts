/** A real Prometheus scrape of the admin /metrics after real traffic and real failures. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { startUpstream } from '../../src/drill/upstreams.js';
import { get } from '../support/raw-client.js';
import { startService } from '../support/service.js';

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`));
    if (found) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('admin /metrics counts requests and failures by RFC 9209 type and cause', async (t) => {
  const good = await startUpstream('ok', { name: 'good' });
  const refused = await startUpstream('refuse');
  t.after(() => good.close());
  t.after(() => refused.close());
  const { port, admin } = await startService(
    t,
    `upstreams:
  ok: { servers: [{ url: ${good.url} }] }
  down: { servers: [{ url: ${refused.url} }], retries: { attempts: 1 } }
routes:
  - match: { path: /down }
    upstream: down
  - match: { path: / }
    upstream: ok
`,
  );
  for (let i = 0; i < 5; i++) assert.equal((await get(port, '/health')).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await get(port, '/down')).status, 502);

  const res = await fetch(`${admin}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  assert.equal(sample(text, 'gatewise_requests_total', { upstream: 'ok', code_class: '2xx' }), 5);
  assert.equal(sample(text, 'gatewise_requests_total', { upstream: 'down', code_class: '5xx' }), 3);
  assert.equal(
    sample(text, 'gatewise_upstream_failures_total', {
      upstream: 'down',
      error_type: 'connection_refused',
      cause: 'backend_down',
    }),
    3,
  );
  assert.match(text, /^gatewise_process_cpu_seconds_total /m);
});
