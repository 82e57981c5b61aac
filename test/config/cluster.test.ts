import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkConfigText, checkNodeText, nodeIdOf } from '../../src/config/index.js';
import { formatProblem } from '../../src/errors.js';

const NODE = `listen: [{ address: 127.0.0.1:8080 }]
admin: { address: 127.0.0.1:9090 }
cluster:
  node_id: gw-1
  etcd: { endpoints: [http://127.0.0.1:2379], prefix: /gatewise }
  redis: { url: redis://127.0.0.1:6379 }
  data_dir: /var/lib/gatewise
`;

const SHARED = `listen: [{ address: 0.0.0.0:1 }]
upstreams:
  api: { servers: [{ url: http://127.0.0.1:5001 }] }
routes:
  - upstream: api
`;

test("a node file holds only the node's keys; its cluster section is checked with positions", () => {
  const node = checkNodeText(NODE, 'node.yaml', {});
  assert.deepEqual(node.problems, []);
  assert.deepEqual(Object.keys(node.raw!), ['listen', 'admin', 'cluster']);
  const bad = checkNodeText(
    `listen: [{ address: 127.0.0.1:8080 }]
cluster:
  etcd: { endpoints: [127.0.0.1:2379], prefx: /x }
  redis: { url: http://127.0.0.1:6379 }
`,
    'node.yaml',
    {},
  );
  assert.deepEqual(bad.problems.map(formatProblem), [
    'node.yaml:3:23: expected a http:// or https:// URL, got "127.0.0.1:2379"',
    'node.yaml:3:40: unknown key "prefx" (did you mean "prefix"?)',
    'node.yaml:4:17: expected a redis:// or rediss:// URL, got "http://127.0.0.1:6379"',
  ]);
  assert.match(
    checkNodeText('listen: [{ address: 127.0.0.1:8080 }]\n', 'node.yaml', {}).problems.map(formatProblem)[0]!,
    /needs a cluster: section/,
  );
});

test("the shared document is checked with the node's keys over its own, problems pointing into it", () => {
  const { raw } = checkNodeText(NODE, 'node.yaml', {});
  const { config, problems } = checkConfigText(SHARED, 'etcd:/gatewise/config', {}, raw);
  assert.deepEqual(problems, []);
  assert.equal(config!.listen[0]!.address, '127.0.0.1:8080', "the node's listen wins");
  assert.equal(config!.cluster!.data_dir, '/var/lib/gatewise');
  assert.equal(nodeIdOf(config!.cluster!), 'gw-1');
  const broken = checkConfigText(`${SHARED}  - upstream: apii\n`, 'etcd:/gatewise/config', {}, raw);
  assert.deepEqual(broken.problems.map(formatProblem), [
    'etcd:/gatewise/config:6:15: unknown upstream "apii" (did you mean "api"?)',
  ]);
});
