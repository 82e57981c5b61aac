import { METHODS } from 'node:http';
import * as fc from 'fast-check';

/**
 * Generators of HTTP/1.1 heads, mostly well-formed with hostile parts mixed in: odd methods,
 * targets and versions, names and values with CTLs and obs-text, duplicated and conflicting
 * framing fields, obs-fold, bare CR/LF, whitespace before the colon and very long lines.
 */

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const TCHAR_ODD = "!#$%&'*+-.^_`|~";
const DELIMS = '"(),/:;<=>?@[\\]{}';
const CTLS = `${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')}\x7f`;
const OBS_TEXT = '\x80\x9f\xa0\xe9\xff';

const chars = (s: string): fc.Arbitrary<string> => fc.constantFrom(...s.split(''));

function text(units: [fc.Arbitrary<string>, number][], minLength: number, maxLength: number): fc.Arbitrary<string> {
  const unit = fc.oneof(...units.map(([arbitrary, weight]) => ({ arbitrary, weight })));
  return fc.string({ unit, minLength, maxLength });
}

const tokenText = (min: number, max: number): fc.Arbitrary<string> =>
  text(
    [
      [chars(ALNUM), 20],
      [chars(TCHAR_ODD), 2],
    ],
    min,
    max,
  );

const oddText = (min: number, max: number): fc.Arbitrary<string> =>
  text(
    [
      [chars(ALNUM), 12],
      [chars(TCHAR_ODD), 2],
      [chars(DELIMS), 2],
      [chars(' \t'), 1],
      [chars(CTLS), 1],
      [chars(OBS_TEXT), 1],
    ],
    min,
    max,
  );

const eol = fc.oneof(
  { arbitrary: fc.constant('\r\n'), weight: 100 },
  { arbitrary: fc.constantFrom('\n', '\r', '\r\r\n', '\n\r'), weight: 1 },
);
const ows = fc.oneof(
  { arbitrary: fc.constant(' '), weight: 10 },
  { arbitrary: fc.constantFrom('', '  ', '\t', ' \t'), weight: 2 },
);

export const methodArb = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'), weight: 40 },
  { arbitrary: fc.constantFrom(...METHODS), weight: 4 },
  { arbitrary: fc.constantFrom('get', 'Get', 'FOO', 'QUERY', 'M-SEARCH', 'PRI', 'SOURCE', 'DESCRIBE'), weight: 2 },
  { arbitrary: tokenText(1, 8), weight: 1 },
  { arbitrary: oddText(0, 6), weight: 1 },
);

const cleanPath = text(
  [
    [chars(`${ALNUM}/-._~`), 30],
    [chars("!$&'()*+,;=:@%?"), 3],
  ],
  0,
  24,
);
const hostilePath = text(
  [
    [chars(`${ALNUM}/-._~`), 20],
    [chars('?#'), 2],
    [chars('"<>\\^`{|}'), 2],
    [chars(' \t'), 1],
    [chars(CTLS), 1],
    [chars(OBS_TEXT), 1],
  ],
  1,
  24,
);
const pathText = fc.oneof({ arbitrary: cleanPath, weight: 12 }, { arbitrary: hostilePath, weight: 2 });

const hostText = fc.oneof(
  {
    arbitrary: fc.constantFrom('example.com', 'a.b', '127.0.0.1', '[::1]', 'localhost', 'xn--bcher-kva.de'),
    weight: 30,
  },
  {
    arbitrary: text(
      [
        [chars(`${ALNUM}.-`), 20],
        [chars("_~!$&'()*+,;=%"), 2],
        [chars('@:[]/?# \t'), 2],
        [chars(CTLS + OBS_TEXT), 1],
      ],
      0,
      12,
    ),
    weight: 3,
  },
);
const portText = fc.oneof(
  { arbitrary: fc.constant(''), weight: 12 },
  { arbitrary: fc.constantFrom(':80', ':8080', ':443'), weight: 3 },
  { arbitrary: fc.constantFrom(':', ':99999', ':8a', ':123456'), weight: 1 },
);

export const targetArb = fc.oneof(
  { arbitrary: pathText.map((p) => `/${p}`), weight: 80 },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('http', 'https', 'HTTP', 'Https', 'ftp', 'ws', 'http:', 'htt'),
        fc.constantFrom('://', '://', '://', ':/', ':'),
        fc.oneof({ arbitrary: fc.constant(''), weight: 8 }, { arbitrary: fc.constantFrom('user@', 'u:p@'), weight: 1 }),
        hostText,
        portText,
        fc.oneof({ arbitrary: pathText.map((p) => `/${p}`), weight: 4 }, { arbitrary: pathText, weight: 1 }),
      )
      .map((parts) => parts.join('')),
    weight: 6,
  },
  { arbitrary: fc.tuple(hostText, portText).map(([h, p]) => h + p), weight: 2 },
  { arbitrary: fc.constantFrom('*', '', '//', '/a b', 'a/b', '*/'), weight: 2 },
  { arbitrary: fc.integer({ min: 8000, max: 8400 }).map((n) => `/${'a'.repeat(n)}`), weight: 1 },
);

export const versionArb = fc.oneof(
  { arbitrary: fc.constant('HTTP/1.1'), weight: 40 },
  { arbitrary: fc.constant('HTTP/1.0'), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'HTTP/2.0',
      'HTTP/1.2',
      'HTTP/0.9',
      'HTTP/3.0',
      'http/1.1',
      'HTTP/1.1 ',
      'HTTP/11',
      'HTTP/1.10',
      'HTTP/1.',
      'HTTP/1,1',
      'HTTPS/1.1',
      'RTSP/1.0',
      'ICE/1.0',
      '',
    ),
    weight: 3,
  },
);

const contentLengthValue = fc.oneof(
  { arbitrary: fc.constantFrom('0', '5', '17'), weight: 10 },
  {
    arbitrary: fc.constantFrom(
      '05',
      '+5',
      '-1',
      '5, 5',
      '5,5',
      '5, 6',
      '',
      ' ',
      '0x5',
      '5 5',
      '5.0',
      '1e3',
      '99999999999999999999',
      '9007199254740991',
      '9007199254740992',
      '\x005',
      '5\x00',
    ),
    weight: 4,
  },
);

const transferEncodingValue = fc.oneof(
  { arbitrary: fc.constant('chunked'), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      'Chunked',
      'CHUNKED',
      'xchunked',
      'chunked, identity',
      'identity, chunked',
      'gzip, chunked',
      'gzip,chunked',
      'chunked, chunked',
      'gzip',
      'identity',
      ', chunked',
      'chunked,',
      'chunked;q=1',
      'gzip;q=1, chunked',
      'chunked\x00',
      'chun ked',
      'chunked\x0b',
      '"chunked"',
      'x, chunked',
      '\tchunked',
    ),
    weight: 5,
  },
);

const knownName = fc.constantFrom(
  'Accept',
  'User-Agent',
  'Connection',
  'Expect',
  'Upgrade',
  'Keep-Alive',
  'TE',
  'Trailer',
  'X-Forwarded-For',
  'Via',
  'Cookie',
  'content-type',
  'X-Request-Id',
);

const nameArb = fc.oneof(
  { arbitrary: knownName, weight: 20 },
  { arbitrary: tokenText(1, 12), weight: 20 },
  { arbitrary: oddText(0, 8), weight: 2 },
);

const valueArb = fc.oneof(
  {
    arbitrary: text(
      [
        [chars(`${ALNUM} -_.,;=/`), 30],
        [chars(DELIMS + TCHAR_ODD), 3],
        [chars('\t'), 1],
      ],
      0,
      24,
    ),
    weight: 60,
  },
  {
    arbitrary: text(
      [
        [chars(`${ALNUM} -_.,;=/`), 20],
        [chars(OBS_TEXT), 2],
        [chars(CTLS), 2],
      ],
      1,
      24,
    ),
    weight: 4,
  },
  {
    arbitrary: fc.constantFrom('close', 'keep-alive', 'upgrade', '100-continue', 'websocket', 'Close, x-a'),
    weight: 6,
  },
  { arbitrary: fc.integer({ min: 7000, max: 17000 }).map((n) => 'v'.repeat(n)), weight: 1 },
);

/** Separator between a field name and its value: mostly a colon, sometimes with space before it. */
const colonArb = fc.oneof(
  { arbitrary: fc.constant(':'), weight: 60 },
  { arbitrary: fc.constantFrom(' :', '\t:', '', '::', ': :'), weight: 1 },
);

const genericLine = fc
  .tuple(nameArb, colonArb, ows, valueArb, fc.constantFrom('', '', '', ' ', '\t'), eol)
  .map((parts) => parts.join(''));

const framingLine = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH', 'Content-length'),
        colonArb,
        ows,
        contentLengthValue,
        eol,
      )
      .map((parts) => parts.join('')),
    weight: 3,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('Transfer-Encoding', 'transfer-encoding', 'Transfer-encoding', 'Transfer_Encoding'),
        colonArb,
        ows,
        transferEncodingValue,
        eol,
      )
      .map((parts) => parts.join('')),
    weight: 3,
  },
);

const hostLine = fc
  .tuple(fc.constantFrom('Host', 'host', 'HOST'), colonArb, ows, fc.tuple(hostText, portText), eol)
  .map(([name, colon, space, [host, port], end]) => `${name}${colon}${space}${host}${port}${end}`);

/** A continuation line: obs-fold (RFC 9112 §5.2). */
const foldLine = fc.tuple(fc.constantFrom(' ', '\t', '  '), tokenText(1, 6), eol).map((parts) => parts.join(''));

const fieldLines = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constant(1), weight: 12 }, { arbitrary: fc.constantFrom(0, 2), weight: 1 }),
    hostLine,
    fc.array(
      fc.oneof(
        { arbitrary: genericLine, weight: 24 },
        { arbitrary: framingLine, weight: 3 },
        { arbitrary: foldLine, weight: 1 },
      ),
      { maxLength: 6 },
    ),
    fc.oneof({ arbitrary: fc.constant(0), weight: 30 }, { arbitrary: fc.integer({ min: 95, max: 110 }), weight: 1 }),
    fc.nat(),
  )
  .map(([hosts, host, lines, filler, at]) => {
    const all = [...lines];
    for (let i = 0; i < filler; i++) all.push(`X-Filler-${i}: ${i}\r\n`);
    for (let i = 0; i < hosts; i++) all.splice(all.length === 0 ? 0 : at % (all.length + 1), 0, host);
    return all.join('');
  });

const leadingArb = fc.oneof(
  { arbitrary: fc.constant(''), weight: 30 },
  { arbitrary: fc.constantFrom('\r\n', '\r\n\r\n', '\n', '\r', ' '), weight: 1 },
);

const sepArb = fc.oneof(
  { arbitrary: fc.constant(' '), weight: 80 },
  { arbitrary: fc.constantFrom('  ', '\t', ''), weight: 1 },
);

/** A request head, complete with its final empty line (whose own line ending may be wrong). */
export const requestHeadArb: fc.Arbitrary<string> = fc
  .tuple(leadingArb, methodArb, sepArb, targetArb, sepArb, versionArb, eol, fieldLines, eol)
  .map((parts) => parts.join(''));

const statusArb = fc.oneof(
  { arbitrary: fc.integer({ min: 200, max: 599 }).map(String), weight: 20 },
  { arbitrary: fc.integer({ min: 600, max: 999 }).map(String), weight: 2 },
  { arbitrary: fc.constantFrom('099', '000', '20', '2000', '2O0', ' 200', '-20', '+20'), weight: 2 },
);

const reasonArb = fc.oneof(
  { arbitrary: fc.constantFrom(' OK', ' Not Found', ' ', '', ' Bad  Gateway '), weight: 10 },
  {
    arbitrary: text(
      [
        [chars(`${ALNUM} `), 20],
        [chars(`${DELIMS + TCHAR_ODD}\t`), 2],
        [chars(OBS_TEXT), 1],
        [chars(CTLS), 1],
      ],
      0,
      16,
    ).map((r) => ` ${r}`),
    weight: 3,
  },
  { arbitrary: fc.constantFrom('\tOK', 'OK'), weight: 1 },
);

const responseVersionArb = fc.oneof(
  { arbitrary: fc.constant('HTTP/1.1'), weight: 20 },
  { arbitrary: fc.constant('HTTP/1.0'), weight: 3 },
  {
    arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11', 'ICE/1.0'),
    weight: 2,
  },
);

const responseFieldLines = fc
  .array(
    fc.oneof(
      { arbitrary: genericLine, weight: 12 },
      { arbitrary: framingLine, weight: 4 },
      { arbitrary: foldLine, weight: 1 },
    ),
    { maxLength: 7 },
  )
  .map((lines) => lines.join(''));

/** A response head (status 200-999 or garbage; 1xx are left to unit tests) with its final empty line. */
export const responseHeadArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof({ arbitrary: fc.constant(''), weight: 30 }, { arbitrary: fc.constantFrom('\r\n', '\n'), weight: 1 }),
    responseVersionArb,
    sepArb,
    statusArb,
    reasonArb,
    eol,
    responseFieldLines,
    eol,
  )
  .map((parts) => parts.join(''));
