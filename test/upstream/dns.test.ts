import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import { isIPv6 } from 'node:net';
import { type TestContext, test } from 'node:test';
import {
  HostResolver,
  type LookupAnswer,
  MIN_TTL_REFRESH_MS,
  NoAddressError,
  type ResolvedAddresses,
  systemLookup,
} from '../../src/upstream/dns.js';

interface Recorded {
  changes: ResolvedAddresses[];
  errors: Array<{ error: Error; kept: ResolvedAddresses | undefined }>;
}

function resolverFor(
  t: TestContext,
  host: string,
  refreshMs: number,
  lookup?: (host: string) => Promise<LookupAnswer[]>,
) {
  const recorded: Recorded = { changes: [], errors: [] };
  const resolver = new HostResolver(
    host,
    refreshMs,
    (resolved) => recorded.changes.push(resolved),
    (error, kept) => recorded.errors.push({ error, kept }),
    lookup,
  );
  t.after(() => resolver.stop());
  return { resolver, recorded };
}

/** A lookup that answers from a script, one entry per call (the last one repeats), counting calls. */
function scripted(script: Array<LookupAnswer[] | Error>): {
  lookup: (host: string) => Promise<LookupAnswer[]>;
  calls: number[];
} {
  const calls: number[] = [];
  const lookup = async (): Promise<LookupAnswer[]> => {
    const step = script[Math.min(calls.length, script.length - 1)]!;
    calls.push(Date.now());
    if (step instanceof Error) throw step;
    return step;
  };
  return { lookup, calls };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function dnsError(code: string, host: string): Error {
  return Object.assign(new Error(`queryA ${code} ${host}`), { code, hostname: host });
}

const A = { address: '10.0.0.1', family: 4 as const };
const B = { address: '10.0.0.2', family: 4 as const };
const C = { address: 'fd00::3', family: 6 as const };

test('an IP literal resolves to itself without any lookup', async (t) => {
  const { lookup, calls } = scripted([new Error('must not be called')]);
  for (const [host, address, family] of [
    ['127.0.0.1', '127.0.0.1', 4],
    ['::1', '::1', 6],
    ['[::1]', '::1', 6],
  ] as const) {
    const { resolver } = resolverFor(t, host, 10, lookup);
    const resolved = await resolver.start();
    assert.deepEqual(resolved.addresses, [{ address, family }]);
    assert.equal(resolved.host, address);
    assert.equal(resolved.ttlMs, undefined);
    assert.equal(resolver.current(), resolved);
  }
  await sleep(50);
  assert.equal(calls.length, 0);
});

test('localhost resolves with the default lookup (from /etc/hosts when DNS does not know it)', async (t) => {
  const { resolver } = resolverFor(t, 'localhost', 60_000);
  const resolved = await resolver.start();
  assert.ok(
    resolved.addresses.some((entry) => entry.address === '127.0.0.1' && entry.family === 4) ||
      resolved.addresses.some((entry) => entry.address === '::1' && entry.family === 6),
    JSON.stringify(resolved.addresses),
  );
});

test('the default lookup reads A and AAAA records with their TTLs, and falls back to getaddrinfo', async (t) => {
  const server = await fakeDnsServer(t, {
    'svc.test': { A: [{ address: '10.1.0.1', ttl: 42 }], AAAA: [{ address: 'fd00::1', ttl: 30 }] },
  });
  const resolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.port}`]);
  t.after(() => resolver.cancel());
  const lookup = systemLookup(resolver);
  assert.deepEqual(await lookup('svc.test'), [
    { address: '10.1.0.1', family: 4, ttl: 42 },
    { address: 'fd00::1', family: 6, ttl: 30 },
  ]);
  // This DNS server answers NXDOMAIN for localhost: getaddrinfo reads /etc/hosts instead, without TTLs.
  const local = await lookup('localhost');
  assert.ok(local.length > 0);
  assert.ok(local.every((entry) => entry.ttl === undefined));
  assert.ok(local.some((entry) => entry.address === '127.0.0.1' || entry.address === '::1'));
  assert.ok(
    server.queries.some((query) => query.name === 'localhost'),
    'DNS was asked first',
  );
  await assert.rejects(lookup('nothing.invalid'), (error: NodeJS.ErrnoException) => {
    assert.match(error.code ?? '', /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME)$/);
    return true;
  });
});

test('a refresh driven by the record TTL picks up a changed address from a real DNS server', async (t) => {
  const server = await fakeDnsServer(t, { 'svc.test': { A: [{ address: '10.1.0.1', ttl: 1 }], AAAA: [] } });
  const dnsResolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  dnsResolver.setServers([`127.0.0.1:${server.port}`]);
  t.after(() => dnsResolver.cancel());
  const { resolver, recorded } = resolverFor(t, 'svc.test', 60_000, systemLookup(dnsResolver));
  const first = await resolver.start();
  assert.deepEqual(first.addresses, [{ address: '10.1.0.1', family: 4 }]);
  assert.equal(first.ttlMs, 1000);
  server.records['svc.test']!.A = [{ address: '10.1.0.2', ttl: 1 }];
  await waitFor('the change', () => recorded.changes.length === 1);
  assert.deepEqual(recorded.changes[0]!.addresses, [{ address: '10.1.0.2', family: 4 }]);
  assert.equal(resolver.current(), recorded.changes[0]);
});

test('onChange fires only when the set of addresses changes, whatever the order', async (t) => {
  const { lookup, calls } = scripted([
    [A, B],
    [B, A],
    [B, A, A],
    [A, C],
    [C, A],
  ]);
  const { resolver, recorded } = resolverFor(t, 'api.internal', 20, lookup);
  const first = await resolver.start();
  assert.deepEqual(first.addresses, [A, B]);
  assert.equal(first.host, 'api.internal');
  await waitFor('six lookups', () => calls.length >= 6);
  assert.equal(recorded.changes.length, 1);
  assert.deepEqual(recorded.changes[0]!.addresses, [A, C]);
  assert.deepEqual(resolver.current()!.addresses, [C, A]);
  assert.deepEqual(recorded.errors, []);
});

test('duplicate answers are listed once', async (t) => {
  const { lookup } = scripted([[A, A, B, { ...A, ttl: 5 }]]);
  const { resolver } = resolverFor(t, 'api.internal', 60_000, lookup);
  assert.deepEqual((await resolver.start()).addresses, [A, B]);
});

test('the smallest TTL brings the refresh forward, but never under a second', async (t) => {
  const { lookup, calls } = scripted([
    [
      { ...A, ttl: 0 },
      { ...B, ttl: 300 },
    ],
  ]);
  const { resolver } = resolverFor(t, 'api.internal', 60_000, lookup);
  const first = await resolver.start();
  assert.equal(first.ttlMs, 0);
  await waitFor('a refresh long before refreshMs', () => calls.length >= 2, 5000);
  const gapMs = calls[1]! - calls[0]!;
  assert.ok(gapMs >= MIN_TTL_REFRESH_MS - 2, `refreshed after ${gapMs} ms`);
});

test('without a TTL the refresh waits refreshMs', async (t) => {
  const { lookup, calls } = scripted([[A]]);
  const { resolver } = resolverFor(t, 'api.internal', 300, lookup);
  await resolver.start();
  await waitFor('a refresh', () => calls.length >= 2);
  assert.ok(calls[1]! - calls[0]! >= 298);
});

test('a TTL longer than refreshMs does not delay the refresh', async (t) => {
  const { lookup, calls } = scripted([[{ ...A, ttl: 3600 }]]);
  const { resolver } = resolverFor(t, 'api.internal', 50, lookup);
  assert.equal((await resolver.start()).ttlMs, 3_600_000);
  await waitFor('two refreshes', () => calls.length >= 3, 5000);
});

test('a failed refresh keeps the last good addresses, reports the error and retries', async (t) => {
  const failure = dnsError('ESERVFAIL', 'api.internal');
  const { lookup, calls } = scripted([[A, B], failure, failure, [B, C]]);
  const { resolver, recorded } = resolverFor(t, 'api.internal', 30, lookup);
  const first = await resolver.start();
  await waitFor('two failures', () => recorded.errors.length === 2);
  for (const { error, kept } of recorded.errors) {
    assert.equal(error, failure);
    assert.equal(kept, first);
  }
  assert.equal(recorded.changes.length, 0, 'the failures changed nothing');
  await waitFor('recovery', () => recorded.changes.length === 1);
  assert.deepEqual(recorded.changes[0]!.addresses, [B, C]);
  assert.ok(calls.length >= 4);
});

test('an empty answer is a failure too: ENODATA, the last good set kept', async (t) => {
  const { lookup } = scripted([[A], []]);
  const { resolver, recorded } = resolverFor(t, 'api.internal', 30, lookup);
  await resolver.start();
  await waitFor('the error', () => recorded.errors.length >= 1);
  const { error, kept } = recorded.errors[0]!;
  assert.ok(error instanceof NoAddressError);
  assert.equal((error as NoAddressError).code, 'ENODATA');
  assert.equal(error.message, 'host "api.internal" resolved to no address');
  assert.deepEqual(kept?.addresses, [A]);
  assert.deepEqual(resolver.current()?.addresses, [A]);
});

test('start() rejects when the first resolution fails, and later success is reported as a change', async (t) => {
  const failure = dnsError('ENOTFOUND', 'late.internal');
  const { lookup } = scripted([failure, failure, [A]]);
  const { resolver, recorded } = resolverFor(t, 'late.internal', 30, lookup);
  await assert.rejects(resolver.start(), failure);
  assert.equal(resolver.current(), undefined);
  await waitFor('the later success', () => recorded.changes.length === 1);
  // The retry between the two was an error with nothing to keep.
  assert.equal(recorded.errors.length, 1);
  assert.equal(recorded.errors[0]!.kept, undefined);
  assert.deepEqual(resolver.current()?.addresses, [A]);
});

test('start() twice resolves once', async (t) => {
  const { lookup, calls } = scripted([[A]]);
  const { resolver } = resolverFor(t, 'api.internal', 60_000, lookup);
  const [one, two] = await Promise.all([resolver.start(), resolver.start()]);
  assert.equal(one, two);
  assert.equal(calls.length, 1);
});

test('a lookup that never answers times out with GW_DNS_TIMEOUT', async (t) => {
  const { resolver } = resolverFor(t, 'slow.internal', 1000, () => new Promise<LookupAnswer[]>(() => {}));
  await assert.rejects(resolver.start(), { code: 'GW_DNS_TIMEOUT', timeoutMs: 1000 });
});

test('stop() ends the refreshes', async (t) => {
  const { lookup, calls } = scripted([[A]]);
  const { resolver } = resolverFor(t, 'api.internal', 20, lookup);
  await resolver.start();
  await waitFor('a refresh', () => calls.length >= 2);
  resolver.stop();
  const count = calls.length;
  await sleep(100);
  assert.equal(calls.length, count);
});

// --- a minimal DNS server (RFC 1035 §4.1) answering A and AAAA from a table, NXDOMAIN otherwise ---

type Records = Record<
  string,
  { A: Array<{ address: string; ttl: number }>; AAAA: Array<{ address: string; ttl: number }> }
>;

const TYPE_A = 1;
const TYPE_AAAA = 28;

async function fakeDnsServer(t: TestContext, records: Records) {
  const socket = dgram.createSocket('udp4');
  const state = { port: 0, records, queries: [] as Array<{ name: string; type: number }> };
  socket.on('message', (message, remote) => {
    const { name, type, questionEnd } = readQuestion(message);
    state.queries.push({ name, type });
    const entry = state.records[name];
    const answers = entry === undefined ? [] : type === TYPE_A ? entry.A : type === TYPE_AAAA ? entry.AAAA : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(message.readUInt16BE(0), 0);
    // QR, RD copied, RA; RCODE 3 (NXDOMAIN) for unknown names.
    header.writeUInt16BE(0x8000 | (message.readUInt16BE(2) & 0x0100) | 0x0080 | (entry === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const body = answers.map(({ address, ttl }) => {
      const rdata = type === TYPE_A ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4); // class IN
      record.writeUInt32BE(ttl, 6);
      record.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([record, rdata]);
    });
    socket.send(Buffer.concat([header, message.subarray(12, questionEnd), ...body]), remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  state.port = socket.address().port;
  return state;
}

function readQuestion(message: Buffer): { name: string; type: number; questionEnd: number } {
  const labels: string[] = [];
  let offset = 12;
  for (let length = message[offset]!; length !== 0; length = message[offset]!) {
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  offset += 1;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), questionEnd: offset + 4 };
}

function ipv6Bytes(address: string): Buffer {
  assert.ok(isIPv6(address));
  const [head, tail] = address.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...new Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  for (const [index, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2);
  return bytes;
}
