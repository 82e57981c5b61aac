import { strict as assert } from 'node:assert';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  formatDuration,
  MAX_DURATION_MS,
  matchesCidr,
  parseCidr,
  parseCidrs,
  parseDuration,
  parseIp,
  parsePercent,
  parseSize,
  parseStatusRange,
  type StatusRange,
} from '../../src/config/index.js';
import { GatewayError } from '../../src/errors.js';

test('durations: units, fractions, compounds and a bare zero', () => {
  const cases: Array<[string, number]> = [
    ['250ms', 250],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['0s', 0],
    ['1.5s', 1500],
    ['0.3s', 300],
    ['1m30s', 90_000],
    ['1h1m1s1ms', 3_661_001],
    [' 2s ', 2000],
    ['596h', 596 * 3_600_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('durations: a unit is required, and nonsense is refused with a message naming the value', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /got ""$/],
    ['30', /got "30" \(a unit is required: ms, s, m or h\)/],
    ['1.5', /a unit is required/],
    ['fast', /got "fast"$/],
    ['2 s', /got "2 s"$/],
    ['1d', /got "1d"$/],
    ['-1s', /got "-1s"$/],
    ['s', /got "s"$/],
    ['1.s', /got "1.s"$/],
    ['2S', /got "2S"$/],
    ['0.5ms', /a whole number of milliseconds/],
    ['597h', /at most 596h/],
    ['1s2', /got "1s2"$/],
  ];
  for (const [text, message] of bad) {
    assert.throws(
      () => parseDuration(text),
      (error: unknown) => {
        assert.ok(error instanceof GatewayError, text);
        assert.equal(error.code, 'GW_CONFIG_DURATION');
        assert.match(error.message, /^expected a duration like "2s", got /);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('durations never exceed what a Node timer can hold', () => {
  assert.equal(MAX_DURATION_MS, 2_147_483_647);
  assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
  assert.throws(() => parseDuration(`${MAX_DURATION_MS + 1}ms`), /at most 596h/);
});

test('sizes: bytes and binary multiples', () => {
  const cases: Array<[string, number]> = [
    ['512', 512],
    ['0', 0],
    ['16k', 16_384],
    ['16K', 16_384],
    ['64kb', 65_536],
    ['1m', 1_048_576],
    ['1M', 1_048_576],
    ['2g', 2 * 1024 ** 3],
    [' 8k ', 8192],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

test('sizes: fractions, negatives and unknown units are refused', () => {
  for (const text of ['', '1.5m', '-1', '16q', 'k', '1t', '16 kib', 'lots', '99999999999999999g']) {
    assert.throws(
      () => parseSize(text),
      (error: unknown) => error instanceof GatewayError && error.code === 'GW_CONFIG_SIZE',
      text,
    );
  }
});

test('CIDRs: IPv4 and IPv6 blocks and single addresses', () => {
  const blocks = parseCidrs(['10.0.0.0/8', '192.168.1.0/25', '2001:db8::/32', '::1', '203.0.113.7']);
  const inside = [
    '10.1.2.3',
    '10.255.255.255',
    '192.168.1.127',
    '2001:db8::1',
    '2001:db8:ffff::',
    '::1',
    '203.0.113.7',
  ];
  const outside = ['11.0.0.1', '192.168.1.128', '2001:db9::1', '::2', '203.0.113.8', '127.0.0.1', 'not an address', ''];
  for (const address of inside) assert.equal(matchesCidr(address, blocks), true, address);
  for (const address of outside) assert.equal(matchesCidr(address, blocks), false, address);
});

test('CIDRs: an IPv4-mapped IPv6 peer matches IPv4 blocks, and a zone id is ignored', () => {
  const blocks = parseCidrs(['10.0.0.0/8', 'fe80::/10']);
  assert.equal(matchesCidr('::ffff:10.1.2.3', blocks), true);
  assert.equal(matchesCidr('::ffff:11.1.2.3', blocks), false);
  assert.equal(matchesCidr('fe80::1%eth0', blocks), true);
  // 0.0.0.0/0 is "every IPv4 peer", not every peer.
  const allIpv4 = parseCidrs(['0.0.0.0/0']);
  assert.equal(matchesCidr('198.51.100.1', allIpv4), true);
  assert.equal(matchesCidr('2001:db8::1', allIpv4), false);
  assert.equal(matchesCidr('1.2.3.4', []), false);
});

test('CIDRs: bad blocks are refused, and host bits set get a suggestion', () => {
  assert.throws(() => parseCidr('10.0.0.1/8'), /CIDR "10.0.0.1\/8" has host bits set \(did you mean "10.0.0.0\/8"\?\)/);
  assert.throws(() => parseCidr('2001:db8::1/32'), /did you mean "2001:db8::\/32"/);
  assert.throws(() => parseCidr('fd00::1/7'), /did you mean "fc00::\/7"/);
  for (const text of [
    '300.1.1.1',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    'localhost',
    '',
  ]) {
    assert.throws(
      () => parseCidr(text),
      (error: unknown) => error instanceof GatewayError && error.code === 'GW_CONFIG_CIDR',
      text,
    );
  }
  assert.equal(parseCidr('0.0.0.0/0').prefixLength, 96);
  assert.equal(parseCidr('::/0').prefixLength, 0);
});

test('IP addresses expand to 16 bytes, IPv4 mapped into ::ffff:0:0/96', () => {
  const hex = (text: string) => Buffer.from(parseIp(text)!).toString('hex');
  assert.equal(hex('::'), '0'.repeat(32));
  assert.equal(hex('::1'), `${'0'.repeat(31)}1`);
  assert.equal(hex('1::'), `0001${'0'.repeat(28)}`);
  assert.equal(hex('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
  assert.equal(hex('1.2.3.4'), '00000000000000000000ffff01020304');
  assert.equal(hex('::ffff:1.2.3.4'), '00000000000000000000ffff01020304');
  assert.equal(hex('2001:db8::8:800:200c:417a'), '20010db80000000000080800200c417a');
  assert.equal(parseIp('1.2.3'), undefined);
  assert.equal(parseIp('::g'), undefined);
});

// node:net's BlockList is an independent implementation of the same question.
test('CIDR matching agrees with node:net BlockList on random IPv4 and IPv6 blocks', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));
  const ipv6 = fc
    .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
    .map((groups) => groups.map((group) => group.toString(16)).join(':'));
  const mask = (address: string, prefix: number, family: 'ipv4' | 'ipv6'): string => {
    // Build the network address through the oracle-independent byte form.
    const bytes = parseIp(address)!;
    const offset = family === 'ipv4' ? 96 : 0;
    for (let bit = prefix + offset; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
    if (family === 'ipv4') return Array.from(bytes.subarray(12)).join('.');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    return groups.join(':');
  };
  const check = (family: 'ipv4' | 'ipv6', base: string, prefix: number, probe: string) => {
    const network = mask(base, prefix, family);
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    const cidr = parseCidr(`${network}/${prefix}`);
    assert.equal(matchesCidr(probe, [cidr]), list.check(probe, family), `${probe} in ${network}/${prefix}`);
  };
  fc.assert(
    fc.property(ipv4, fc.nat(32), ipv4, (base, prefix, probe) => check('ipv4', base, prefix, probe)),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(ipv6, fc.nat(128), ipv6, (base, prefix, probe) => check('ipv6', base, prefix, probe)),
    { numRuns: 300 },
  );
  // Probes that share the block's prefix, which random probes rarely do.
  fc.assert(
    fc.property(ipv4, fc.nat(32), fc.nat(0xffffffff), (base, prefix, noise) => {
      const bytes = parseIp(base)!;
      bytes[12 + 3] = (bytes[15]! ^ noise) & 0xff;
      check('ipv4', base, prefix, Array.from(bytes.subarray(12)).join('.'));
    }),
    { numRuns: 300 },
  );
});

test('percentages: "50%" or a number 0-100; a bare fraction is refused as ambiguous', () => {
  const cases: Array<[unknown, number]> = [
    ['50%', 50],
    [' 10 % ', 10],
    ['12.5%', 12.5],
    ['0.5%', 0.5],
    ['0%', 0],
    [50, 50],
    [0, 0],
    [1, 1],
    ['75', 75],
    [150, 150], // the field, not the parser, knows its upper bound
  ];
  for (const [value, percent] of cases) assert.equal(parsePercent(value), percent, String(value));
  const bad: Array<[unknown, RegExp]> = [
    [0.5, /got 0.5 \(write "0.5%", or "50%" if a fraction was meant\)$/],
    ['0.1', /got "0.1" \(write "0.1%", or "10%" if a fraction was meant\)$/],
    [-1, /got -1$/],
    ['-5%', /got "-5%"$/],
    ['half', /got "half"$/],
    ['%', /got "%"$/],
    ['50%%', /got "50%%"$/],
    [true, /got true$/],
    [Number.NaN, /got NaN$/],
    [undefined, /got nothing$/],
  ];
  for (const [value, message] of bad) {
    assert.throws(
      () => parsePercent(value),
      (error: unknown) => {
        assert.ok(error instanceof GatewayError, String(value));
        assert.equal(error.code, 'GW_CONFIG_PERCENT');
        assert.match(error.message, /^expected a percentage like "50%", got /);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('status ranges: a code or "min-max" within 100-599', () => {
  const cases: Array<[unknown, StatusRange]> = [
    [200, { min: 200, max: 200 }],
    ['204', { min: 204, max: 204 }],
    ['200-299', { min: 200, max: 299 }],
    [' 100 - 599 ', { min: 100, max: 599 }],
    ['404-404', { min: 404, max: 404 }],
  ];
  for (const [value, range] of cases) assert.deepEqual(parseStatusRange(value), range, String(value));
  const bad: Array<[unknown, string]> = [
    [600, 'status 600 is outside 100-599'],
    [99, 'status 99 is outside 100-599'],
    ['200-600', 'status 600 is outside 100-599 (in "200-600")'],
    ['299-200', 'status range "299-200" runs backwards (write "200-299")'],
    ['2xx', 'expected a status like 200 or a range like "200-299", got "2xx"'],
    [200.5, 'expected a status like 200 or a range like "200-299", got 200.5'],
    ['200-', 'expected a status like 200 or a range like "200-299", got "200-"'],
    ['200,204', 'expected a status like 200 or a range like "200-299", got "200,204"'],
    [[200], 'expected a status like 200 or a range like "200-299", got a list'],
  ];
  for (const [value, message] of bad) {
    assert.throws(
      () => parseStatusRange(value),
      (error: unknown) =>
        error instanceof GatewayError && error.code === 'GW_CONFIG_STATUS' && error.message === message,
      String(value),
    );
  }
});

test('durations format as a user writes them, and read back to the same milliseconds', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [1, '1ms'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1s500ms'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [3_661_001, '1h1m1s1ms'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => parseDuration(formatDuration(ms)) === ms),
    { numRuns: 500 },
  );
});
