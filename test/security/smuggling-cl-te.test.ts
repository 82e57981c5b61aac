import { test } from 'node:test';
import { assertRefused, type Payload } from './corpus.js';

// CL.TE and TE.CL request smuggling (Linhart et al. 2005; Kettle, "HTTP Desync Attacks", 2019):
// one hop delimits the body by Content-Length, the next by Transfer-Encoding. RFC 9112 §6.1
// lets a server refuse such a message; Gatewise always does, whatever the order or case.
const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';

const REQUESTS: Payload[] = [
  {
    name: 'CL.TE: front end honours Content-Length',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'TE.CL: front end honours Transfer-Encoding',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'TE before CL',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'Transfer-Encoding: chunked with Content-length: 0 (lowercase l)',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nTransfer-Encoding: chunked\r\nContent-length: 0\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'upper-case field names',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nCONTENT-LENGTH: 6\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\nG`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'CL with TE whose last coding is chunked after gzip',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 6\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\nG`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'CL with a TE in tab-separated form',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 6\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\nG`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'CL with a TE value padded by spaces',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 6\r\nTransfer-Encoding:  chunked \r\n\r\n0\r\n\r\nG`,
    code: 'HPE_CL_TE',
    status: 400,
  },
  {
    name: 'CL.CL: two Content-Length values',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n${SMUGGLED}`,
    code: 'HPE_CL_MISMATCH',
    status: 400,
  },
  {
    name: 'CL.CL: the same Content-Length twice',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    code: 'HPE_DUPLICATE_CL',
    status: 400,
  },
  {
    name: 'Content-Length as a list',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 0, 44\r\n\r\n${SMUGGLED}`,
    code: 'HPE_INVALID_CL',
    status: 400,
  },
  {
    name: 'Content-Length with a plus sign',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: +44\r\n\r\n${SMUGGLED}`,
    code: 'HPE_INVALID_CL',
    status: 400,
  },
  {
    name: 'Content-Length in hex',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 0x2c\r\n\r\n${SMUGGLED}`,
    code: 'HPE_INVALID_CL',
    status: 400,
  },
  {
    name: 'Content-Length with inner space',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 4 4\r\n\r\n${SMUGGLED}`,
    code: 'HPE_INVALID_CL',
    status: 400,
  },
  {
    name: 'Content-Length that wraps a 64-bit integer',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 18446744073709551660\r\n\r\n${SMUGGLED}`,
    code: 'HPE_INVALID_CL',
    status: 400,
  },
  {
    name: 'Content-Length folded onto the next line',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 0\r\n 44\r\n\r\n${SMUGGLED}`,
    code: 'HPE_OBS_FOLD',
    status: 400,
  },
  {
    name: 'Content-Length with whitespace before the colon',
    raw: `POST / HTTP/1.1\r\nHost: victim\r\nContent-Length : 44\r\n\r\n${SMUGGLED}`,
    code: 'HPE_WS_BEFORE_COLON',
    status: 400,
  },
  {
    name: 'Transfer-Encoding in an HTTP/1.0 request',
    raw: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    code: 'HPE_TE_HTTP10',
    status: 400,
  },
];

for (const payload of REQUESTS) {
  test(`refuses ${payload.name}`, () => assertRefused(payload));
}

// Response desync: an upstream whose framing is ambiguous gets a 502, never a guess.
const RESPONSES: Payload[] = [
  {
    name: 'response with Content-Length and chunked',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
    code: 'HPE_CL_TE',
    status: 502,
  },
  {
    name: 'response with two Content-Length values',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello',
    code: 'HPE_CL_MISMATCH',
    status: 502,
  },
  {
    name: 'response with an invalid Content-Length',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello',
    code: 'HPE_INVALID_CL',
    status: 502,
  },
];

for (const payload of RESPONSES) {
  test(`refuses response ${payload.name}`, () => assertRefused(payload, false));
}
