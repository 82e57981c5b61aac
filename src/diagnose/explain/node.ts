/**
 * Node.js errors as Node prints them: system errors "Error: connect ECONNREFUSED 127.0.0.1:5000",
 * "Error: getaddrinfo ENOTFOUND api.internal", "Error: read ECONNRESET", "Error: write EPIPE" (the
 * message is "<syscall> <code> <address>"), "Error: socket hang up" (code ECONNRESET), the inspected
 * properties "code: 'ECONNRESET'", TLS errors ("self-signed certificate", "Hostname/IP does not match
 * certificate's altnames", OpenSSL's "...:wrong version number:..."), llhttp's "Parse Error: ..."
 * (HPE_*), undici's "Connect Timeout Error" / "Headers Timeout Error" / "other side closed", the heap
 * exhaustion abort, http-proxy-middleware's "[HPM] Error occurred while proxying request ... [CODE]",
 * and pino records whose err.code holds such a code. The code decides, through the classification
 * table Gatewise itself uses.
 */
import type { Phase } from '../failure.js';
import { isIpv6Loopback, parseTarget } from './target.js';
import { fromEpochSeconds, fromIso } from './time.js';
import { tlsCodeOf } from './tls.js';
import type { Finding, LineInput, Recogniser } from './types.js';

type Body = Omit<Finding, 'source' | 'time' | 'upstream'>;

const SYSCALL_PHASES: Readonly<Record<string, Phase>> = {
  connect: 'connect',
  getaddrinfo: 'dns',
  queryA: 'dns',
  queryAaaa: 'dns',
  querySrv: 'dns',
  read: 'read_head',
  write: 'send',
  writev: 'send',
};

/** Message texts Node and undici use, to their code. */
const MESSAGES: readonly (readonly [RegExp, string, Phase])[] = [
  [/\bsocket hang up\b/, 'ECONNRESET', 'read_head'],
  [/Client network socket disconnected before secure TLS connection was established/, 'ECONNRESET', 'tls'],
  [/Connect Timeout Error/, 'UND_ERR_CONNECT_TIMEOUT', 'connect'],
  [/Headers Timeout Error/, 'UND_ERR_HEADERS_TIMEOUT', 'read_head'],
  [/Body Timeout Error/, 'UND_ERR_BODY_TIMEOUT', 'read_body'],
  [/\bother side closed\b/, 'UND_ERR_SOCKET', 'read_head'],
  [/self[- ]signed certificate in certificate chain/, 'SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
  [/self[- ]signed certificate/, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
  [/unable to verify the first certificate/, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
  [/unable to get local issuer certificate/, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls'],
  [/certificate has expired/, 'CERT_HAS_EXPIRED', 'tls'],
  [/Hostname\/IP does not match certificate's altnames/, 'ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
  [/Parse Error: Header overflow/, 'HPE_HEADER_OVERFLOW', 'read_head'],
];

function phaseOf(code: string, syscall: string | undefined): Phase {
  if (syscall !== undefined && SYSCALL_PHASES[syscall] !== undefined) return SYSCALL_PHASES[syscall]!;
  if (/^(?:ENOTFOUND|EAI_)/.test(code)) return 'dns';
  if (/^(?:ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL)$/.test(code)) return 'connect';
  if (/^(?:ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code)) return 'tls';
  if (code === 'EPIPE') return 'send';
  return 'read_head';
}

/** Node prints IPv6 addresses without brackets: "connect ECONNREFUSED ::1:5000". */
function addressOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon > 0 && text.indexOf(':') !== colon && /^\d+$/.test(text.slice(colon + 1)))
    return `[${text.slice(0, colon)}]:${text.slice(colon + 1)}`;
  return text;
}

function fromCode(code: string, syscall: string | undefined, address: string | undefined, text: string): Body {
  const phase = phaseOf(code, syscall);
  const target = parseTarget(address);
  const body: Body = {
    code,
    phase,
    ...(syscall === 'bind' ? { syscall } : {}),
    ...(address?.startsWith('/') ? { unixPath: true } : {}),
    why: `Node.js reported ${code}${syscall ? ` from ${syscall}()` : ''}${address ? ` for ${address}` : ''}`,
    summary: text.length > 160 ? `${text.slice(0, 157)}...` : text,
    confidence: 'high',
  };
  if (code === 'ECONNREFUSED' && isIpv6Loopback(target)) {
    return {
      ...body,
      cause: 'wrong_upstream_address',
      why: 'since Node 17, "localhost" resolves to ::1 first; the backend listens on 127.0.0.1 only, so ::1 refuses',
      also: [{ cause: 'backend_down', why: 'the backend may be stopped' }],
    };
  }
  if (code === 'ECONNREFUSED')
    return {
      ...body,
      also: [{ cause: 'wrong_upstream_address', why: 'the backend may listen on another port or address' }],
    };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    return {
      ...body,
      confidence: 'medium',
      also: [
        {
          cause: 'keepalive_mismatch',
          why: "Node's agents keep connections alive (the default since Node 19): a server that closes an idle socket as it is reused fails this way",
        },
      ],
    };
  }
  return body;
}

/** "connect ECONNREFUSED 127.0.0.1:5000", "getaddrinfo ENOTFOUND api", "read ECONNRESET", "EMFILE: too many open files, open 'x'". */
const SYSTEM =
  /\b(connect|getaddrinfo|query\w*|read|write|writev|bind|accept|spawn) (E[A-Z]{3,}|EAI_[A-Z]+)(?: (\S+?))?(?=[\s,'"\])]|$)/;
const FS_STYLE = /\b(E[A-Z]{3,}): [a-z][a-z ]+, (\w+)/;
const CODE_PROPERTY = /\bcode:\s*'([A-Z][A-Z0-9_]+)'/;
const HPM = /Error occurred while (?:trying to )?proxy(?:ing)?(?: request)? (\S+) to (\S+) \[([A-Z][A-Z0-9_]+)\]/;

function fromText(line: string): Body & { upstream?: string } {
  const hpm = HPM.exec(line);
  if (hpm) {
    const upstream = hpm[2]!;
    return { ...fromCode(hpm[3]!, undefined, parseTargetAddress(upstream), line.trim()), upstream };
  }
  const system = SYSTEM.exec(line);
  if (system) {
    const syscall = system[1]!;
    const raw = system[3];
    // A word after the code is an address only if it looks like one ("read ECONNRESET at ..." has none).
    const address = raw !== undefined && (/[.:/]/.test(raw) || syscall === 'getaddrinfo') ? addressOf(raw) : undefined;
    return {
      ...fromCode(system[2]!, syscall, address, line.trim()),
      ...(address !== undefined ? { upstream: address } : {}),
    };
  }
  for (const [pattern, code, phase] of MESSAGES) {
    if (pattern.test(line)) return { ...fromCode(code, undefined, undefined, line.trim()), phase };
  }
  const hpe =
    /\b(HPE_[A-Z_]+)\b/.exec(line) ?? (/Parse Error: Expected HTTP\//.test(line) ? ['', 'HPE_INVALID_CONSTANT'] : null);
  if (hpe) return fromCode(hpe[1]!, undefined, undefined, line.trim());
  const tls =
    /ERR_SSL_[A-Z_]+|ERR_TLS_[A-Z_]+/.exec(line)?.[0] ?? (/SSL routines/.test(line) ? tlsCodeOf(line) : undefined);
  if (tls !== undefined) return fromCode(tls, undefined, undefined, line.trim());
  const fs = FS_STYLE.exec(line);
  if (fs) return fsError(fs[1]!, fs[2]!, line.trim());
  const property = CODE_PROPERTY.exec(line);
  if (property) return fromCode(property[1]!, undefined, undefined, line.trim());
  return heapOrNothing(line);
}

function parseTargetAddress(url: string): string | undefined {
  const target = parseTarget(url);
  return target.host === undefined ? undefined : `${target.host}:${target.port ?? ''}`;
}

/** File-system style errors: only descriptor exhaustion concerns a proxy. */
function fsError(code: string, syscall: string, text: string): Body {
  if (code === 'EMFILE' || code === 'ENFILE') return fromCode(code, syscall, undefined, text);
  return {
    error: null,
    cause: 'other',
    why: `a ${syscall}() error (${code}), not a failure towards an upstream`,
    summary: text,
    confidence: 'medium',
  };
}

function heapOrNothing(line: string): Body & { upstream?: string } {
  if (/JavaScript heap out of memory|Reached heap limit/.test(line)) {
    return {
      error: null,
      cause: 'crash_or_oom',
      why: 'the Node.js process ran out of heap and aborted: every request in flight fails, and a proxy in front logs 502 until it restarts',
      checks: [
        {
          what: 'Heap limit of the process (raise with --max-old-space-size, or find the leak)',
          command: 'node -e "console.log(v8.getHeapStatistics().heap_size_limit/1048576)"',
        },
      ],
      summary: 'Node.js process aborted: JavaScript heap out of memory',
      confidence: 'high',
    };
  }
  return { error: null, cause: 'other', why: '', summary: '', confidence: 'low' };
}

function fromJson(json: Readonly<Record<string, unknown>>): (Body & { upstream?: string }) | undefined {
  const err = (typeof json['err'] === 'object' && json['err'] !== null ? json['err'] : json['error']) as
    | Record<string, unknown>
    | undefined;
  const holder = typeof err === 'object' && err !== null ? err : json;
  const code = holder['code'];
  if (
    typeof code !== 'string' ||
    !/^(?:E[A-Z]{3,}|EAI_[A-Z]+|UND_ERR_[A-Z_]+|ERR_(?:SSL|TLS)_[A-Z_]+|HPE_[A-Z_]+)$/.test(code)
  )
    return undefined;
  const syscall = typeof holder['syscall'] === 'string' ? holder['syscall'] : undefined;
  const host = typeof holder['address'] === 'string' ? holder['address'] : undefined;
  const port = typeof holder['port'] === 'number' ? holder['port'] : undefined;
  const address = host === undefined ? undefined : addressOf(port === undefined ? host : `${host}:${port}`);
  const message = typeof holder['message'] === 'string' ? holder['message'] : `${syscall ?? ''} ${code}`.trim();
  return {
    ...fromCode(code, syscall, address, message),
    ...(address !== undefined ? { upstream: address } : {}),
  };
}

function recognise(input: LineInput): Finding | undefined {
  if (input.json !== undefined) {
    const body = fromJson(input.json);
    if (body === undefined) return undefined;
    const time = fromIso(input.json['time']) ?? fromEpochSeconds(Number(input.json['time']) / 1000);
    return { source: 'node', ...(time !== undefined ? { time } : {}), ...body };
  }
  const body = fromText(input.line);
  if (body.why === '') return undefined;
  return { source: 'node', ...body };
}

export const node: Recogniser = { source: 'node', recognise };
