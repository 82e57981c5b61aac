import { GatewayError } from '../errors.js';

/**
 * Every way the HTTP/1.1 engine refuses bytes it read, with the status a server answers. Parse
 * errors of responses carry 502 whatever their code: the client is told the upstream misbehaved.
 */
export const HTTP_PARSE_CODES = {
  HPE_INVALID_METHOD: 'request method is not a token or is not followed by a single SP',
  HPE_INVALID_TARGET: 'request-target is not origin-, absolute-, authority- or asterisk-form',
  HPE_INVALID_VERSION: 'protocol version is not HTTP/1.0 or HTTP/1.1',
  HPE_LEADING_EMPTY_LINES: 'too many empty lines before the start line',
  HPE_INVALID_HEADER_TOKEN: 'field name is not a token or has no colon',
  HPE_INVALID_HEADER_VALUE: 'field value holds a control character',
  HPE_WS_BEFORE_COLON: 'whitespace between field name and colon (RFC 9112 §5.1)',
  HPE_OBS_FOLD: 'obsolete line folding or whitespace-led field line (RFC 9112 §5.2)',
  HPE_BARE_CR: 'CR not followed by LF',
  HPE_BARE_LF: 'LF not preceded by CR',
  HPE_INVALID_HEAD_END: 'head does not end with an empty line where the caller said it does',
  HPE_CL_TE: 'Content-Length together with Transfer-Encoding (RFC 9112 §6.1)',
  HPE_CL_MISMATCH: 'several Content-Length fields with different values',
  HPE_DUPLICATE_CL: 'Content-Length sent more than once',
  HPE_INVALID_CL: 'Content-Length is not 1*DIGIT within the safe integer range',
  HPE_TE_NOT_CHUNKED: 'request Transfer-Encoding whose final coding is not chunked',
  HPE_INVALID_TE: 'Transfer-Encoding list is malformed, or chunked is repeated or not last',
  HPE_TE_HTTP10: 'Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1)',
  HPE_MISSING_HOST: 'HTTP/1.1 request without Host (RFC 9112 §3.2)',
  HPE_MULTIPLE_HOST: 'more than one Host field line (RFC 9112 §3.2)',
  HPE_INVALID_HOST: 'Host or authority is not uri-host [ ":" port ]',
  HPE_URI_TOO_LONG: 'request line longer than the limit',
  HPE_HEAD_TOO_LARGE: 'head larger than the limit',
  HPE_TOO_MANY_HEADERS: 'more field lines than the limit',
  HPE_INVALID_STATUS: 'status line is not HTTP/1.x SP 3DIGIT [SP reason]',
  HPE_INVALID_CHUNK_SIZE: 'chunk-size is not 1*HEXDIG or its extension is malformed',
  HPE_CHUNK_OVERFLOW: 'chunk-size longer than 16 hex digits or past Number.MAX_SAFE_INTEGER',
  HPE_CHUNK_EXT_TOO_LARGE: 'chunk extensions longer than the limit',
  HPE_INVALID_CHUNK_FRAMING: 'chunk-data not followed by CRLF',
  HPE_INVALID_TRAILER: 'trailer field line malformed',
  HPE_TRAILER_TOO_LARGE: 'trailer section larger than the limit',
} as const;

export type HttpParseCode = keyof typeof HTTP_PARSE_CODES;

export class HttpParseError extends GatewayError {
  declare readonly code: HttpParseCode;
  /** The status a server answers with (400, 414, 431, 501, 505), or 502 for a bad upstream response. */
  readonly status: number;

  constructor(code: HttpParseCode, status: number, message: string) {
    super(code, message);
    this.status = status;
  }
}
