import { test } from 'node:test';
import { assertRefused, type Payload } from './corpus.js';

// TE.TE: a Transfer-Encoding obfuscated so that one hop ignores it and the other does not
// (Kettle, "HTTP Desync Attacks", 2019; the PortSwigger Web Security Academy list). Each payload
// also carries a Content-Length or a body that would be read differently by a lax parser.
const CL = 'Content-Length: 4\r\n';
const BODY = '5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n';
const req = (te: string, extra = CL): string => `POST / HTTP/1.1\r\nHost: victim\r\n${extra}${te}\r\n${BODY}`;

const PAYLOADS: Payload[] = [
  {
    name: 'Transfer-Encoding: xchunked',
    raw: req('Transfer-Encoding: xchunked\r\n', ''),
    code: 'HPE_TE_NOT_CHUNKED',
    status: 501,
  },
  { name: 'xchunked with Content-Length', raw: req('Transfer-Encoding: xchunked\r\n'), code: 'HPE_CL_TE', status: 400 },
  { name: 'Transfer-Encoding: x', raw: req('Transfer-Encoding: x\r\n', ''), code: 'HPE_TE_NOT_CHUNKED', status: 501 },
  {
    name: 'value led by a space, with Content-Length',
    raw: req('Transfer-Encoding:  chunked\r\n'),
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'chunked, identity',
    raw: req('Transfer-Encoding: chunked, identity\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'chunked,identity without space',
    raw: req('Transfer-Encoding: chunked,identity\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'identity, chunked with Content-Length',
    raw: req('Transfer-Encoding: identity, chunked\r\n'),
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'Transfer-Encoding<TAB>:',
    raw: req('Transfer-Encoding\t: chunked\r\n'),
    code: 'HPE_WS_BEFORE_COLON',
    status: 400,
  },
  {
    name: 'Transfer-Encoding<SP>:',
    raw: req('Transfer-Encoding : chunked\r\n'),
    code: 'HPE_WS_BEFORE_COLON',
    status: 400,
  },
  { name: 'name led by a space', raw: req(' Transfer-Encoding: chunked\r\n'), code: 'HPE_OBS_FOLD', status: 400 },
  { name: 'name led by a tab', raw: req('\tTransfer-Encoding: chunked\r\n'), code: 'HPE_OBS_FOLD', status: 400 },
  {
    name: 'duplicated Transfer-Encoding, chunked first',
    raw: req('Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'duplicated Transfer-Encoding, chunked last',
    raw: req('Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n'),
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'duplicated Transfer-Encoding: chunked',
    raw: req('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'chunked, chunked',
    raw: req('Transfer-Encoding: chunked, chunked\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'Transfer-Encoding: chunked with Content-length: 0',
    raw: req('Transfer-Encoding: chunked\r\nContent-length: 0\r\n', ''),
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'obs-folded Transfer-Encoding',
    raw: req('Transfer-Encoding:\r\n chunked\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'obs-folded after another field',
    raw: req('X-Foo: bar\r\n Transfer-Encoding: chunked\r\n'),
    code: 'HPE_OBS_FOLD',
    status: 400,
  },
  {
    name: 'Transfer-Encoding on its own line, value on the next',
    raw: req('Transfer-Encoding\r\n: chunked\r\n'),
    code: 'HPE_INVALID_HEADER_TOKEN',
    status: 400,
  },
  {
    name: 'NUL after chunked',
    raw: req('Transfer-Encoding: chunked\x00\r\n', ''),
    code: 'HPE_INVALID_HEADER_VALUE',
    status: 400,
  },
  {
    name: 'NUL before chunked',
    raw: req('Transfer-Encoding: \x00chunked\r\n', ''),
    code: 'HPE_INVALID_HEADER_VALUE',
    status: 400,
  },
  {
    name: 'NUL in the name',
    raw: req('Transfer-Encoding\x00: chunked\r\n', ''),
    code: 'HPE_INVALID_HEADER_TOKEN',
    status: 400,
  },
  {
    name: 'vertical tab before chunked',
    raw: req('Transfer-Encoding:\x0bchunked\r\n', ''),
    code: 'HPE_INVALID_HEADER_VALUE',
    status: 400,
  },
  {
    name: 'form feed after chunked',
    raw: req('Transfer-Encoding: chunked\x0c\r\n', ''),
    code: 'HPE_INVALID_HEADER_VALUE',
    status: 400,
  },
  {
    name: 'bare CR inside the value',
    raw: req('Transfer-Encoding: chun\rked\r\n', ''),
    code: 'HPE_BARE_CR',
    status: 400,
  },
  {
    name: 'bare LF before the field',
    raw: req('X: y\nTransfer-Encoding: chunked\r\n'),
    code: 'HPE_BARE_LF',
    status: 400,
  },
  { name: 'quoted chunked', raw: req('Transfer-Encoding: "chunked"\r\n', ''), code: 'HPE_INVALID_TE', status: 400 },
  {
    name: 'chunked with a parameter',
    raw: req('Transfer-Encoding: chunked;q=1\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  { name: 'empty list element', raw: req('Transfer-Encoding: , chunked\r\n', ''), code: 'HPE_INVALID_TE', status: 400 },
  {
    name: 'chunk with an inner space',
    raw: req('Transfer-Encoding: chunk ed\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
  {
    name: 'obs-text look-alike of chunked',
    raw: req('Transfer-Encoding: chunk\xeed\r\n', ''),
    code: 'HPE_INVALID_TE',
    status: 400,
  },
];

for (const payload of PAYLOADS) {
  test(`refuses ${payload.name}`, () => assertRefused(payload));
}
