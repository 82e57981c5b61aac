/**
 * A tiny authoritative DNS server over UDP on 127.0.0.1 (RFC 1035 §4.1): answers SRV (RFC 2782), A
 * and AAAA queries from tables the test changes while it runs. An unknown name is NXDOMAIN, a known
 * name without records of the asked type an empty answer, and `failing` makes every answer
 * SERVFAIL. Point a `dns.promises.Resolver` at it with `setServers([server.address])`.
 */
import * as dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface SrvEntry {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, as Resolver.setServers takes it. */
  readonly address: string;
  readonly port: number;
  /** SRV records by name (lowercase, no trailing dot). */
  readonly srv: Map<string, SrvEntry[]>;
  /** A records by name. */
  readonly a: Map<string, string[]>;
  /** AAAA records by name. */
  readonly aaaa: Map<string, string[]>;
  /** TTL written on every record (seconds). */
  ttl: number;
  /** Answer SERVFAIL to every query. */
  failing: boolean;
  /** Every question asked, in order. */
  readonly queries: Array<{ name: string; type: string }>;
  close(): Promise<void>;
}

const TYPES = { A: 1, AAAA: 28, SRV: 33 } as const;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export async function startDnsServer(): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const server: TestDnsServer = {
    address: `127.0.0.1:${port}`,
    port,
    srv: new Map(),
    a: new Map(),
    aaaa: new Map(),
    ttl: 1,
    failing: false,
    queries: [],
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (message, remote) => {
    const reply = answer(server, message);
    if (reply !== undefined) socket.send(reply, remote.port, remote.address);
  });
  return server;
}

function answer(server: TestDnsServer, message: Buffer): Buffer | undefined {
  if (message.length < 12) return undefined;
  const question = readQuestion(message);
  if (question === undefined) return undefined;
  const { name, type, end } = question;
  const typeName = Object.entries(TYPES).find(([, code]) => code === type)?.[0] ?? String(type);
  server.queries.push({ name, type: typeName });
  const known = server.srv.has(name) || server.a.has(name) || server.aaaa.has(name);
  let rdatas: Buffer[] = [];
  if (type === TYPES.SRV) rdatas = (server.srv.get(name) ?? []).map(srvData);
  else if (type === TYPES.A) rdatas = (server.a.get(name) ?? []).map(ipv4Data);
  else if (type === TYPES.AAAA) rdatas = (server.aaaa.get(name) ?? []).map(ipv6Data);
  const rcode = server.failing ? RCODE.SERVFAIL : known ? RCODE.NOERROR : RCODE.NXDOMAIN;
  if (rcode !== RCODE.NOERROR) rdatas = [];

  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.readUInt16BE(0), 0); // the query's id
  // QR (a response), AA (authoritative), RD copied from the query, RA, then the RCODE.
  header.writeUInt16BE(0x8000 | 0x0400 | (message.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(rdatas.length, 6); // ANCOUNT
  const records = rdatas.map((rdata) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the owner name: a pointer to the question's (offset 12)
    fixed.writeUInt16BE(type, 2);
    fixed.writeUInt16BE(1, 4); // class IN
    fixed.writeUInt32BE(server.ttl, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header, message.subarray(12, end), ...records]);
}

function readQuestion(message: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length && message[offset] !== 0) {
    const length = message[offset]!;
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  offset += 1;
  if (offset + 4 > message.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), end: offset + 4 };
}

/** RFC 2782: priority, weight, port, then the target as an uncompressed domain name. */
function srvData(entry: SrvEntry): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(entry.priority ?? 0, 0);
  fixed.writeUInt16BE(entry.weight ?? 0, 2);
  fixed.writeUInt16BE(entry.port, 4);
  return Buffer.concat([fixed, encodeName(entry.target)]);
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function ipv4Data(address: string): Buffer {
  if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Data(address: string): Buffer {
  if (!isIPv6(address)) throw new Error(`not an IPv6 address: ${address}`);
  const [head, tail] = address.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const bytes = Buffer.alloc(16);
  for (const [index, group] of [...headGroups, ...fill, ...tailGroups].entries())
    bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2);
  return bytes;
}
