/**
 * The etcd config source in process, against a real etcd: what it applies (a recording target
 * stands in for the Service, which the node tests run for real), its record, its last good copy,
 * a deleted key, a failed apply, a restored (older) etcd, and leaving the cluster.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  type ClusterLog,
  clusterKeys,
  createEtcdClient,
  EtcdConfigSource,
  type NodeRecord,
} from '../../src/cluster/index.js';
import { checkConfigText } from '../../src/config/index.js';
import { formatProblem } from '../../src/errors.js';
import type { ReloadResult } from '../../src/service.js';
import { etcdAvailable, type RunningEtcd, startEtcd } from '../support/etcd.js';
import { eventually } from './nodes.js';

const KEYS = clusterKeys('/gatewise');
const doc = (port: number) => `upstreams:
  api: { servers: [{ url: http://127.0.0.1:${port} }] }
routes:
  - upstream: api
`;

class RecordingLog implements ClusterLog {
  readonly records: Array<{ level: string } & Record<string, unknown>> = [];
  info(record: Record<string, unknown>) {
    this.records.push({ level: 'info', ...record });
  }
  warn(record: Record<string, unknown>) {
    this.records.push({ level: 'warn', ...record });
  }
  error(record: Record<string, unknown>) {
    this.records.push({ level: 'error', ...record });
  }
  has(message: RegExp): boolean {
    return this.records.some((record) => message.test(String(record.msg)));
  }
}

interface Harness {
  etcd: RunningEtcd;
  client: ReturnType<typeof createEtcdClient>;
  source: EtcdConfigSource;
  log: RecordingLog;
  dataDir: string;
  /** Origins applied, in order. */
  applied: string[];
  /** Set to make the next applies fail as a Service's could (a port in use, ...). */
  failApply: string | undefined;
  put(text: string): Promise<number>;
  record(): Promise<NodeRecord | undefined>;
}

async function harness(t: TestContext): Promise<Harness> {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const client = createEtcdClient({ endpoints: [etcd.url], dial_timeout: 1000 });
  t.after(() => client.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewise-source-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const log = new RecordingLog();
  const h: Harness = {
    etcd,
    client,
    log,
    dataDir,
    applied: [],
    failApply: undefined,
    source: new EtcdConfigSource({
      etcd: { endpoints: [etcd.url], prefix: '/gatewise', dial_timeout: 1000, lease_ttl: 3000 },
      nodeId: 'n1',
      dataDir,
      log,
      check: (text, file) => {
        const { config, problems } = checkConfigText(text, file, {}, { listen: [{ address: '127.0.0.1:0' }] });
        return config === undefined ? { problems: problems.map(formatProblem) } : { config, problems: [] };
      },
      identity: () => ({ listen: ['127.0.0.1:1'], admin: '127.0.0.1:2' }),
      backoff: { initialMs: 50, maxMs: 200 },
    }),
    async put(text) {
      return Number((await client.put(KEYS.config).value(text).exec()).header.revision);
    },
    async record() {
      const value = await client.get(KEYS.node('n1')).string();
      return value === null ? undefined : (JSON.parse(value) as NodeRecord);
    },
  };
  t.after(() => h.source.stop());
  const target = {
    apply: async (_config: unknown, origin: string): Promise<ReloadResult> => {
      if (h.failApply !== undefined) return { ok: false, problems: [h.failApply] };
      h.applied.push(origin);
      return { ok: true, generation: h.applied.length };
    },
  };
  const revision = await h.put(doc(5001));
  const read = await h.source.read();
  assert.equal(read.version?.revision, revision);
  h.source.start(target, { applied: read.version!, read });
  await eventually('the first record', async () => (await h.record())?.applied_revision === revision, 2000);
  return h;
}

const lastGood = (dataDir: string) =>
  JSON.parse(readFileSync(join(dataDir, 'last-good.json'), 'utf8')) as { revision: number; text: string };

test('versions are applied in order; the record and the last good copy follow', {
  skip: !etcdAvailable(),
}, async (t) => {
  const h = await harness(t);
  assert.equal(lastGood(h.dataDir).text, doc(5001));
  const revision = await h.put(doc(5002));
  await eventually('applied', async () => h.applied.at(-1) === `etcd:/gatewise/config@${revision}`, 2000);
  await eventually('the record says so', async () => (await h.record())?.applied_revision === revision, 2000);
  const record = (await h.record())!;
  assert.equal(record.status, 'ok');
  assert.equal(record.error, null);
  assert.deepEqual([record.listen, record.admin, record.pid], [['127.0.0.1:1'], '127.0.0.1:2', process.pid]);
  assert.equal(lastGood(h.dataDir).revision, revision);
  assert.deepEqual(
    readdirSync(h.dataDir).filter((name) => name.endsWith('.tmp')),
    [],
    'no temporary file is left behind',
  );

  // The same text again is a new revision of the same configuration: recorded, not swapped in.
  const again = await h.put(doc(5002));
  await eventually('recorded', async () => (await h.record())?.applied_revision === again, 2000);
  assert.equal(h.applied.length, 1);
});

test('a deleted key or a failed apply is refused: the running version stays', { skip: !etcdAvailable() }, async (t) => {
  const h = await harness(t);
  const served = (await h.record())!.applied_revision;
  await h.client.delete().key(KEYS.config).exec();
  await eventually('rejected', async () => (await h.record())?.status === 'rejected', 2000);
  const deleted = (await h.record())!;
  assert.equal(deleted.applied_revision, served);
  assert.match(deleted.error ?? '', /etcd:\/gatewise\/config does not exist .*still serving revision/);
  assert.ok(h.log.has(/shared configuration missing/));

  h.failApply = 'listen 127.0.0.1:1: address in use';
  const revision = await h.put(doc(5003));
  await eventually('rejected', async () => (await h.record())?.rejected_revision === revision, 2000);
  assert.deepEqual((await h.record())!.problems, ['listen 127.0.0.1:1: address in use']);
  h.failApply = undefined;

  // A reload (SIGHUP, admin) reads again and applies even the version it refused before.
  const result = await h.source.reload();
  assert.deepEqual(result, { ok: true, generation: 1 });
  await eventually('ok', async () => (await h.record())?.status === 'ok', 2000);
  assert.equal((await h.record())!.applied_revision, revision);
});

test('etcd restored from a backup (revision going backwards): read again and served', {
  skip: !etcdAvailable(),
}, async (t) => {
  const h = await harness(t);
  const original = (await h.record())!.applied_revision!;
  // A backup of the data directory, taken with etcd stopped.
  await h.etcd.kill('SIGTERM');
  const backup = h.etcd.snapshot();
  await h.etcd.restart();
  await eventually('reconnected', async () => h.log.has(/etcd reachable again/), 3000);
  const later = await h.put(doc(5002));
  await eventually('applied', async () => h.applied.at(-1) === `etcd:/gatewise/config@${later}`, 2000);

  await h.etcd.kill('SIGKILL');
  h.etcd.restore(backup);
  await h.etcd.restart();
  await eventually(
    'the restored version is served',
    async () => h.applied.at(-1) === `etcd:/gatewise/config@${original}`,
    3000,
  );
  assert.ok(h.log.has(/revision went backwards/));
  await eventually('saved as the last good copy', async () => lastGood(h.dataDir).revision === original, 2000);
  await eventually('recorded again', async () => (await h.record())?.applied_revision === original, 3000);
  // The watch runs from the restored revision: the next version arrives.
  const next = await h.put(doc(5004));
  await eventually('applied', async () => h.applied.at(-1) === `etcd:/gatewise/config@${next}`, 2000);
});

test('stopping revokes the lease: the record goes at once', { skip: !etcdAvailable() }, async (t) => {
  const h = await harness(t);
  assert.ok(await h.record());
  await h.source.stop();
  assert.equal(await h.record(), undefined);
});
