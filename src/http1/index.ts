export { ChunkedScanner } from './chunked.js';
export { HTTP_PARSE_CODES, type HttpParseCode, HttpParseError } from './errors.js';
export { DEFAULT_HEAD_LIMITS, equalsLowercase, Field, type HeadLimits, ParsedHead, TargetForm } from './head.js';
export { checkPartialHead, findHeadEnd, isValidAuthority, parseRequestHead, parseResponseHead } from './parser.js';
