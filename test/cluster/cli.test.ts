/**
 * The cluster's command line against a real etcd: `config push` (a file failing the check never
 * reaches etcd), `config get`, `cluster status` (who needs attention first), and the clear refusals
 * of a node that has nothing to serve.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { clusterKeys, createEtcdClient, type NodeRecord } from '../../src/cluster/index.js';
import { runCli } from '../support/cli.js';
import { etcdAvailable, startEtcd } from '../support/etcd.js';
import { freePort } from '../support/nginx.js';
import { makeNode } from './nodes.js';

const GOOD = `upstreams:
  api: { servers: [{ url: http://127.0.0.1:5001 }] }
routes:
  - upstream: api
`;
const BAD = `upstreams:
  api: { servers: [{ url: http://127.0.0.1:5001 }], balance: round_robbin }
routes:
  - upstream: app
`;

function files(t: TestContext, entries: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewise-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(entries)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name]!, text);
  }
  return paths;
}

test('config push checks first: a bad file never reaches etcd; a good one does', {
  skip: !etcdAvailable(),
}, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const f = files(t, { 'good.yaml': GOOD, 'bad.yaml': BAD });

  const refused = await runCli(['config', 'push', f['bad.yaml']!, '--etcd', etcd.url]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bad\.yaml:2:\d+: .*round_robbin/);
  assert.match(refused.stderr, /bad\.yaml:4:15: unknown upstream "app" \(did you mean "api"\?\)/);
  assert.match(refused.stderr, /2 problems: not pushed, etcd:\/gatewise\/config is unchanged/);
  const nothing = await runCli(['config', 'get', '--etcd', etcd.url]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /etcd has no etcd:\/gatewise\/config yet: push one with gatewise config push FILE/);

  const pushed = await runCli(['config', 'push', f['good.yaml']!, '--etcd', etcd.url, '--prefix', '/team-a']);
  assert.equal(pushed.code, 0, pushed.stderr);
  const revision = /to etcd:\/team-a\/config: revision (\d+) \(hash [0-9a-f]{16}\)/.exec(pushed.stdout)?.[1];
  assert.ok(revision, pushed.stdout);
  const got = await runCli(['config', 'get', '--etcd', etcd.url, '--prefix', '/team-a']);
  assert.equal(got.code, 0);
  assert.equal(got.stdout, GOOD, 'get prints the document as pushed');
  assert.match(got.stderr, new RegExp(`etcd:/team-a/config: revision ${revision} `));

  // A bad file after a good one leaves the good one in place.
  await runCli(['config', 'push', f['bad.yaml']!, '--etcd', etcd.url, '--prefix', '/team-a']);
  assert.equal((await runCli(['config', 'get', '--etcd', etcd.url, '--prefix', '/team-a'])).stdout, GOOD);
});

test("config push --node-config checks with the node's keys and uses its etcd", {
  skip: !etcdAvailable(),
}, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const node = await makeNode(t, 'gw-a', etcd.url);
  // The node's own listen wins over the document's (a document may carry one for `gatewise check`).
  const f = files(t, { 'shared.yaml': `listen: [{ address: "not an address" }]\n${GOOD}` });
  const pushed = await runCli(['config', 'push', f['shared.yaml']!, '--node-config', node.file]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const got = await runCli(['config', 'get', '--node-config', node.file]);
  assert.match(got.stdout, /not an address/);

  const both = await runCli(['config', 'get', '--node-config', node.file, '--etcd', etcd.url]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either --node-config or --etcd\/--prefix/);
});

test('an unreachable or wrong etcd URL is named with what to do', async (t) => {
  const closed = await freePort();
  const f = files(t, { 'good.yaml': GOOD });
  const refused = await runCli(['config', 'push', f['good.yaml']!, '--etcd', `http://127.0.0.1:${closed}`]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    new RegExp(`cannot reach etcd at http://127.0.0.1:${closed}: connection refused .*is etcd running there\\?`),
  );

  // A node whose etcd is down and that never saved a configuration has nothing to serve: exit 2.
  const down = await makeNode(t, 'gw-down', `http://127.0.0.1:${closed}`);
  const exit = await runCli(['serve', '--config', down.file]);
  assert.equal(exit.code, 2);
  assert.match(exit.stderr, new RegExp(`cannot reach etcd at http://127.0.0.1:${closed}: connection refused`));
  assert.match(exit.stderr, /no last good configuration in .*last-good\.json \(none saved yet\)/);
  assert.match(exit.stderr, /Start etcd there \(or fix cluster\.etcd\.endpoints in .*node\.yaml\)/);

  // An HTTP server is not etcd: a likely mistake (a wrong port) gets its own words.
  const web = http.createServer((_req, res) => res.end('hello'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => web.close(resolve)));
  const wrong = await makeNode(t, 'gw-wrong', `http://127.0.0.1:${(web.address() as AddressInfo).port}`);
  const notEtcd = await runCli(['serve', '--config', wrong.file]);
  assert.equal(notEtcd.code, 2);
  assert.match(notEtcd.stderr, /not an etcd v3 client URL .*port 2379, not the peer port 2380/);

  const f2 = files(t, {
    'node.yaml': 'listen: [{ address: 127.0.0.1:1 }]\ncluster:\n  etcd: { endpoints: [127.0.0.1:2379] }\n',
  });
  const invalid = await runCli(['serve', '--config', f2['node.yaml']!]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /node\.yaml:3:23: expected a http:\/\/ or https:\/\/ URL, got "127\.0\.0\.1:2379"/);
});

test('a node with no valid shared configuration starts only from a last good copy', {
  skip: !etcdAvailable(),
}, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const node = await makeNode(t, 'gw-new', etcd.url);
  const missing = await runCli(['serve', '--config', node.file]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no shared configuration at \/gatewise\/config/);
  assert.match(missing.stderr, /Push one first: gatewise config push FILE --node-config .*node\.yaml/);

  const client = createEtcdClient({ endpoints: [etcd.url], dial_timeout: 1000 });
  t.after(() => client.close());
  await client.put(clusterKeys('/gatewise').config).value(BAD).exec();
  const invalid = await runCli(['serve', '--config', node.file]);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /the shared configuration etcd:\/gatewise\/config \(revision \d+\) is invalid/);
  assert.match(invalid.stderr, /etcd:\/gatewise\/config:4:15: unknown upstream "app"/);

  // Once the node has served a good version, a bad one at start is refused and the copy served.
  const good = Number((await client.put(clusterKeys('/gatewise').config).value(GOOD).exec()).header.revision);
  await node.start();
  assert.equal(await node.cli.stop('SIGTERM'), 0);
  const bad = Number((await client.put(clusterKeys('/gatewise').config).value(BAD).exec()).header.revision);
  await node.start();
  assert.match(node.cli.output(), /shared configuration rejected: serving the last good configuration/);
  const own = (await (await fetch(`http://127.0.0.1:${node.adminPort}/api/cluster`)).json()) as {
    node: NodeRecord;
    config: { revision: number };
  };
  assert.equal(own.node.status, 'rejected');
  assert.equal(own.node.applied_revision, good);
  assert.equal(own.node.rejected_revision, bad);
  assert.equal(own.config.revision, bad);
  assert.match(own.node.error ?? '', /etcd:\/gatewise\/config:4:15: unknown upstream "app"/);
});

test('cluster status: rejecting, degraded and lagging nodes first', { skip: !etcdAvailable() }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const client = createEtcdClient({ endpoints: [etcd.url], dial_timeout: 1000 });
  t.after(() => client.close());
  const keys = clusterKeys('/gatewise');
  const current = Number((await client.put(keys.config).value(GOOD).exec()).header.revision);
  const record = (id: string, status: NodeRecord['status'], revision: number, error: string | null = null) =>
    client
      .put(keys.node(id))
      .value(
        JSON.stringify({
          node_id: id,
          status,
          applied_revision: revision,
          config_hash: 'abc',
          error,
          problems: [],
          rejected_revision: null,
          seen_revision: revision,
          updated_at: '2025-01-01T00:00:00.000Z',
          started_at: '2025-01-01T00:00:00.000Z',
          hostname: 'h',
          pid: 1,
          listen: [],
          admin: '',
        }),
      )
      .exec();
  await record('a-ok', 'ok', current);
  await record('b-lagging', 'ok', current - 1);
  await record('c-degraded', 'degraded', current, 'etcd unreachable since then: connection refused');
  await record('d-rejected', 'rejected', current - 1, 'etcd:/gatewise/config:4:15: unknown upstream "app"\nmore');
  await client.put(keys.node('junk')).value('not json').exec();

  const table = await runCli(['cluster', 'status', '--etcd', etcd.url]);
  assert.equal(table.code, 1);
  const rows = table.stdout.split('\n').filter((line) => /^[a-d]-/.test(line));
  assert.deepEqual(
    rows.map((row) => row.split(/\s+/).slice(0, 3)),
    [
      ['d-rejected', 'rejected', String(current - 1)],
      ['c-degraded', 'degraded', String(current)],
      ['b-lagging', 'lagging', String(current - 1)],
      ['a-ok', 'ok', String(current)],
    ],
  );
  assert.match(rows[0]!, /unknown upstream "app" \(\+1 more\)$/);
  assert.match(table.stdout, /unreadable record: \/gatewise\/nodes\/junk/);
  assert.match(table.stderr, /3 of 4 nodes are not serving revision \d+/);

  const json = await runCli(['cluster', 'status', '--etcd', etcd.url, '--json']);
  const view = JSON.parse(json.stdout) as {
    config: { revision: number };
    nodes: Array<{ node_id: string; lagging: boolean }>;
  };
  assert.equal(view.config.revision, current);
  assert.deepEqual(
    view.nodes.map((n) => [n.node_id, n.lagging]),
    [
      ['d-rejected', true],
      ['c-degraded', false],
      ['b-lagging', true],
      ['a-ok', false],
    ],
  );
});
