import { strict as assert } from 'node:assert';
import { METHODS } from 'node:http';
import { test } from 'node:test';
import * as fc from 'fast-check';
import {
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  HttpParseError,
  ParsedHead,
  parseRequestHead,
  parseResponseHead,
  TargetForm,
} from '../../src/http1/index.js';
import { requestHeadArb, responseHeadArb } from './arbitraries.js';
import { startNodeServerOracle, startUndiciClientOracle, type Verdict } from './oracles.js';

/**
 * Differential tests against the parsers the rest of the Node world uses: node:http's server
 * (llhttp) for requests and undici's client (llhttp in WebAssembly) for responses. Property: a head
 * the reference rejects, Gatewise rejects; a head both accept parses to the same start line and
 * the same (name, value) list. Gatewise may be stricter (bare LF, two Host lines, HTTP/2.0 on an
 * HTTP/1.1 connection, ...): those cases are counted, not failed.
 *
 * One deliberate exception: llhttp knows a fixed table of methods and refuses every other token,
 * while RFC 9110 §9.1 makes any token a method and a proxy forwards extension methods. When
 * node:http refuses a head whose method is a token outside http.METHODS (llhttp answers
 * HPE_INVALID_METHOD, or HPE_INVALID_CONSTANT for RTSP methods), the same head is sent again with
 * the method swapped for POST and must then be accepted and agree in every other part.
 */

const REQUEST_RUNS = 1500;
const RESPONSE_RUNS = 800;
const SEED = Number(process.env.GATEWISE_DIFF_SEED ?? 20250101);

type Ours = { accepted: true; head: ParsedHead } | { accepted: false; code: string };

function parseOurs(raw: Buffer, isRequest: boolean, out: ParsedHead): Ours {
  const end = findHeadEnd(raw, 0, 0, raw.length);
  if (end === -1) return { accepted: false, code: 'incomplete' };
  try {
    if (isRequest) parseRequestHead(raw, 0, end, DEFAULT_HEAD_LIMITS, out);
    else parseResponseHead(raw, 0, end, DEFAULT_HEAD_LIMITS, out);
  } catch (err) {
    if (err instanceof HttpParseError) return { accepted: false, code: err.code };
    throw err;
  }
  assert.equal(end, raw.length, 'an accepted head ends where the bytes end');
  return { accepted: true, head: out };
}

function ourPairs(head: ParsedHead): string[] {
  const pairs: string[] = [];
  for (let i = 0; i < head.count; i++) pairs.push(head.names[i]!, head.values[i]!);
  return pairs;
}

/** node:http reports absolute-form as the whole URI; Gatewise as authority plus origin-form. */
function expectedNodeUrl(head: ParsedHead): string {
  return head.targetForm === TargetForm.Absolute ? `${head.absoluteScheme}://${head.absoluteAuthority}` : '';
}

function assertSameRequest(head: ParsedHead, node: Extract<Verdict, { accepted: true }>, raw: string): void {
  assert.equal(head.method, node.method, `method of ${JSON.stringify(raw)}`);
  if (head.targetForm === TargetForm.Absolute) {
    const prefix = expectedNodeUrl(head);
    assert.equal(node.url.slice(0, prefix.length).toLowerCase(), prefix.toLowerCase(), `url of ${JSON.stringify(raw)}`);
    const rest = node.url.slice(prefix.length);
    const originForm = rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
    assert.equal(head.target, originForm, `target of ${JSON.stringify(raw)}`);
  } else {
    assert.equal(head.target, node.url, `target of ${JSON.stringify(raw)}`);
  }
  assert.deepEqual(ourPairs(head), node.rawHeaders, `fields of ${JSON.stringify(raw)}`);
}

function trimOws(value: string): string {
  let end = value.length;
  while (end > 0 && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return value.slice(0, end);
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function histogram(map: Map<string, number>): string {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
}

test('request heads: every head node:http rejects, Gatewise rejects; accepted heads agree', async (t) => {
  const node = await startNodeServerOracle();
  t.after(() => node.close());
  const out = new ParsedHead();
  const stats = { generated: 0, nodeRejected: 0, oursRejected: 0, both: 0, bothAccepted: 0, methodRetried: 0 };
  const oursOnly = new Map<string, number>();

  await fc.assert(
    fc.asyncProperty(requestHeadArb, async (raw) => {
      stats.generated++;
      const bytes = Buffer.from(raw, 'latin1');
      const ours = parseOurs(bytes, true, out);
      let theirs = await node.ask(bytes);
      if (!theirs.accepted) stats.nodeRejected++;
      if (!ours.accepted) stats.oursRejected++;
      if (!ours.accepted) {
        if (theirs.accepted) count(oursOnly, ours.code);
        else stats.both++;
        return;
      }
      if (!theirs.accepted && !METHODS.includes(ours.head.method)) {
        stats.methodRetried++;
        const swapped =
          raw.slice(0, ours.head.startLineStart) +
          'POST' +
          raw.slice(ours.head.startLineStart + ours.head.method.length);
        theirs = await node.ask(Buffer.from(swapped, 'latin1'));
        assert.ok(theirs.accepted, `node:http refused ${JSON.stringify(swapped)} (${theirs.accepted || theirs.error})`);
        assert.deepEqual(ourPairs(ours.head), theirs.rawHeaders, `fields of ${JSON.stringify(raw)}`);
        return;
      }
      assert.ok(
        theirs.accepted,
        `Gatewise accepted what node:http rejected (${theirs.accepted || theirs.error}): ${JSON.stringify(raw)}`,
      );
      stats.bothAccepted++;
      assertSameRequest(ours.head, theirs, raw);
    }),
    { numRuns: REQUEST_RUNS, seed: SEED },
  );

  console.log(
    `requests: ${stats.generated} heads generated; node:http rejected ${stats.nodeRejected}, Gatewise rejected ` +
      `${stats.oursRejected} (both ${stats.both}); both accepted and agreed on ${stats.bothAccepted}; ` +
      `${stats.methodRetried} extension methods re-checked as POST; Gatewise-only rejections: ${histogram(oursOnly)}`,
  );
  assert.ok(stats.bothAccepted > REQUEST_RUNS / 4, 'the generator produces enough valid heads to compare');
  assert.ok(stats.both > REQUEST_RUNS / 10, 'the generator produces enough hostile heads');
});

test('response heads: every head undici rejects, Gatewise rejects; accepted heads agree', async (t) => {
  const undici = await startUndiciClientOracle();
  t.after(() => undici.close());
  const out = new ParsedHead();
  const stats = { generated: 0, undiciRejected: 0, oursRejected: 0, both: 0, bothAccepted: 0 };
  const oursOnly = new Map<string, number>();

  await fc.assert(
    fc.asyncProperty(responseHeadArb, async (raw) => {
      stats.generated++;
      const head = Buffer.from(raw, 'latin1');
      const ours = parseOurs(head, false, out);
      const body = raw.toLowerCase().includes('chunked') ? '5\r\nhello\r\n0\r\n\r\n' : 'hello';
      const theirs = await undici.ask(Buffer.concat([head, Buffer.from(body, 'latin1')]));
      if (!theirs.accepted) stats.undiciRejected++;
      if (!ours.accepted) {
        stats.oursRejected++;
        if (theirs.accepted) count(oursOnly, ours.code);
        else stats.both++;
        return;
      }
      assert.ok(
        theirs.accepted,
        `Gatewise accepted what undici rejected (${theirs.accepted || theirs.error}): ${JSON.stringify(raw)}`,
      );
      stats.bothAccepted++;
      assert.equal(ours.head.statusCode, theirs.statusCode, `status of ${JSON.stringify(raw)}`);
      const pairs = ourPairs(ours.head);
      assert.deepEqual(
        pairs,
        theirs.rawHeaders.map((v, i) => (i % 2 === 1 ? trimOws(v) : v)),
        `fields of ${JSON.stringify(raw)}`,
      );
    }),
    { numRuns: RESPONSE_RUNS, seed: SEED },
  );

  console.log(
    `responses: ${stats.generated} heads generated; undici rejected ${stats.undiciRejected}, Gatewise rejected ` +
      `${stats.oursRejected} (both ${stats.both}); both accepted and agreed on ${stats.bothAccepted}; ` +
      `Gatewise-only rejections: ${histogram(oursOnly)}`,
  );
  assert.ok(stats.bothAccepted > RESPONSE_RUNS / 4, 'the generator produces enough valid heads to compare');
  assert.ok(stats.both > RESPONSE_RUNS / 10, 'the generator produces enough hostile heads');
});
