/**
 * Linux errno values and their glibc strerror() texts, for the system errors proxies print: nginx as
 * "(111: Connection refused)", Envoy as "delayed connect error: 111", Go as "connect: connection
 * refused". Each maps to the symbolic code Node.js uses, which the classification table knows.
 */
const ERRNO = [
  [1, 'EPERM', 'Operation not permitted'],
  [2, 'ENOENT', 'No such file or directory'],
  [11, 'EAGAIN', 'Resource temporarily unavailable'],
  [12, 'ENOMEM', 'Cannot allocate memory'],
  [13, 'EACCES', 'Permission denied'],
  [20, 'ENOTDIR', 'Not a directory'],
  [23, 'ENFILE', 'Too many open files in system'],
  [24, 'EMFILE', 'Too many open files'],
  [32, 'EPIPE', 'Broken pipe'],
  [71, 'EPROTO', 'Protocol error'],
  [98, 'EADDRINUSE', 'Address already in use'],
  [99, 'EADDRNOTAVAIL', 'Cannot assign requested address'],
  [100, 'ENETDOWN', 'Network is down'],
  [101, 'ENETUNREACH', 'Network is unreachable'],
  [103, 'ECONNABORTED', 'Software caused connection abort'],
  [104, 'ECONNRESET', 'Connection reset by peer'],
  [105, 'ENOBUFS', 'No buffer space available'],
  [107, 'ENOTCONN', 'Transport endpoint is not connected'],
  [110, 'ETIMEDOUT', 'Connection timed out'],
  [111, 'ECONNREFUSED', 'Connection refused'],
  [112, 'EHOSTDOWN', 'Host is down'],
  [113, 'EHOSTUNREACH', 'No route to host'],
] as const;

const BY_NUMBER = new Map<number, string>(ERRNO.map(([number, code]) => [number, code]));
const TEXT_BY_NUMBER = new Map<number, string>(ERRNO.map(([number, , text]) => [number, text]));
const BY_TEXT = new Map<string, string>(ERRNO.map(([, code, text]) => [text.toLowerCase(), code]));

/** 'ECONNREFUSED' for 111; undefined for a number this table does not hold. */
export function errnoCode(number: number): string | undefined {
  return BY_NUMBER.get(number);
}

/** 'Connection refused' for 111; undefined for a number this table does not hold. */
export function errnoText(number: number): string | undefined {
  return TEXT_BY_NUMBER.get(number);
}

/** 'ECONNREFUSED' for 'Connection refused' (any case); undefined for other text. */
export function errnoCodeOfText(text: string): string | undefined {
  return BY_TEXT.get(text.trim().toLowerCase());
}

const SORTED = [...ERRNO]
  .map(([number, code, text]) => [number, code, text.toLowerCase()] as const)
  .sort((a, b) => b[2].length - a[2].length);

/** The code in text that holds a strerror() text anywhere, e.g. Go's "connect: connection refused". */
export function errnoCodeIn(text: string): string | undefined {
  const lower = text.toLowerCase();
  // Longest texts first, so "too many open files in system" wins over "too many open files".
  for (const [, code, words] of SORTED) if (lower.includes(words)) return code;
  return undefined;
}
