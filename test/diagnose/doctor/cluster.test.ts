/**
 * `gatewise doctor --config` on a cluster node's file, against a real etcd: the shared document is
 * read from etcd and examined like any config; etcd's reachability, the node records and Redis are
 * checked; with etcd away and no last good copy, doctor cannot run (exit 2).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDoctor } from '../../../src/diagnose/doctor/index.js';
import { runCli } from '../../support/cli.js';
import { startEtcd } from '../../support/etcd.js';
import { freePort } from '../../support/nginx.js';

test('doctor on a cluster node file reads the shared config from etcd and checks the cluster', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-doctor-cluster-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [closedRedis, closedBackend] = [await freePort(), await freePort()];
  const node = join(dir, 'gw1.yaml');
  writeFileSync(
    node,
    `listen: [{ address: 127.0.0.1:0 }]
cluster:
  node_id: gw-1
  etcd: { endpoints: [${etcd.url}], prefix: /doctor }
  redis: { url: redis://127.0.0.1:${closedRedis} }
  data_dir: ${join(dir, 'data')}
`,
  );
  const shared = join(dir, 'shared.yaml');
  writeFileSync(
    shared,
    `upstreams:
  api: { servers: [{ url: http://127.0.0.1:${closedBackend} }] }
routes: [{ upstream: api }]
`,
  );
  const push = await runCli(['config', 'push', shared, '--etcd', etcd.url, '--prefix', '/doctor']);
  assert.equal(push.code, 0, push.stderr);

  const report = await runDoctor({ config: node, checks: ['tcp', 'cluster'], timeoutMs: 1000 });
  assert.deepEqual(report.source.files, [node, 'etcd:/doctor/config']);
  const titles = report.findings.map((f) => `${f.severity} ${f.check}: ${f.title}`);
  assert.ok(
    titles.some((x) => /^ok cluster: shared configuration read from etcd at revision \d+$/.test(x)),
    titles.join('\n'),
  );
  assert.ok(
    titles.some((x) => /^ok cluster: etcd http:\/\/127\.0\.0\.1:\d+ answers in /.test(x)),
    titles.join('\n'),
  );
  assert.ok(titles.includes('warning cluster: no node record in etcd: no gateway node is running or connected'));
  assert.ok(titles.includes('warning cluster: Redis does not answer: cluster rate limits fall back to local ones'));
  // The shared document's targets are probed like any config's.
  const refused = report.findings.find((f) => f.check === 'tcp' && f.severity === 'critical');
  assert.match(refused?.target ?? '', new RegExp(`:${closedBackend}$`));

  await etcd.kill('SIGKILL');
  const down = await runCli(['doctor', '--config', node, '--json', '--only', 'cluster', '--timeout', '1s']);
  assert.equal(down.code, 2, down.stdout);
  assert.match(down.stderr, /cannot read the shared configuration: .*no last good copy either/);
});
