/**
 * HAProxy logs, as its configuration manual (section 8.2.3 "HTTP log format", 8.2.2 "TCP log format",
 * 8.5 "Stream state at disconnection") describes them:
 *   haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 ...
 * The termination state's first character is the event that ended the stream (C client, S server,
 * P proxy, L local, R resource, I internal, D down, U backup up, K killed, c/s client/server
 * timeout), the second the phase (R request, Q queue, C connect, H headers, D data, L last data,
 * T tarpit). Also the server state messages of server.c and check.c ("Server bk/srv1 is DOWN,
 * reason: Layer4 connection problem, info: "Connection refused", ...") and backend.c's "has no
 * server available!".
 */
import type { RootCause } from '../taxonomy.js';
import { classifyCode } from './build.js';
import { errnoCodeIn } from './errno.js';
import { fromClfDate } from './time.js';
import type { Finding, LineInput, Recogniser } from './types.js';

type Body = Omit<Finding, 'source' | 'time' | 'upstream'>;

/** The state and last check result of every server, from HAProxy's runtime API (the stats socket). */
const RUNTIME_STATE = {
  what: "Servers' state and last health check, from the runtime API (the path of 'stats socket' in haproxy.cfg)",
  command: "echo 'show servers state' | socat stdio /run/haproxy/admin.sock",
};

const DATE = String.raw`\[(\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3})\]`;
const HTTP_LOG = new RegExp(
  String.raw`(?:^|\s)(\S+):(\d+) ${DATE} (\S+) ([^\s/]+)\/(\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\+?-?\d+) (-?\d+) (\+?\d+) \S+ \S+ (\S{4}) `,
);
const TCP_LOG = new RegExp(
  String.raw`(?:^|\s)(\S+):(\d+) ${DATE} (\S+) ([^\s/]+)\/(\S+) (-?\d+)\/(-?\d+)\/(\+?-?\d+) (\+?\d+) (\S{2}) \d+\/\d+\/\d+\/\d+\/\+?\d+ \d+\/\d+`,
);

/** The first two characters of the termination state, for the combinations section 8.5 lists. */
const STATES: Readonly<Record<string, (server: string) => Body>> = {
  SC: (server) =>
    server === '<NOSRV>'
      ? {
          code: 'GW_NO_SERVER',
          phase: 'select',
          why: 'no server was available in the backend: all DOWN by health checks, in maintenance, or none defined',
          checks: [RUNTIME_STATE],
          summary: 'no server available (503, SC with <NOSRV>)',
          confidence: 'high',
        }
      : {
          code: 'ECONNREFUSED',
          phase: 'connect',
          why: `${server} or an equipment before it refused the TCP connection (RST or ICMP)`,
          also: [
            { cause: 'wrong_upstream_address', why: 'the server line may name the wrong port' },
            { cause: 'firewall_or_network', why: 'an ICMP unreachable (no route, no ARP answer) ends the same way' },
          ],
          summary: `connection to ${server} refused or unreachable (SC)`,
          confidence: 'medium',
        },
  sC: (server) => ({
    code: 'GW_CONNECT_TIMEOUT',
    phase: 'connect',
    why: `"timeout connect" struck before ${server} accepted the connection: packets dropped or the host is down`,
    also: [{ cause: 'overload_or_exhaustion', why: 'a full listen backlog on the server delays accepts' }],
    summary: `connect timeout to ${server} (sC)`,
    confidence: 'high',
  }),
  SH: (server) => ({
    code: 'GW_UPSTREAM_CLOSED',
    phase: 'read_head',
    why: `${server} aborted before sending its full response headers, or crashed while processing the request`,
    also: [
      { cause: 'keepalive_mismatch', why: 'a reused idle server connection closed by the server fails this way' },
      { cause: 'tls_mismatch', why: 'a TLS server on a plain server line closes without an answer' },
    ],
    summary: `${server} closed the connection before the response headers (SH)`,
    confidence: 'medium',
  }),
  sH: (server) => ({
    code: 'GW_READ_TIMEOUT',
    phase: 'read_head',
    why: `"timeout server" struck before ${server} returned its response headers: too long transactions, server or database saturation`,
    also: [{ cause: 'overload_or_exhaustion', why: 'a saturated server queues requests' }],
    summary: `server timeout waiting for ${server}'s response headers (sH)`,
    confidence: 'high',
  }),
  SD: (server) => ({
    code: 'GW_BODY_INCOMPLETE',
    phase: 'read_body',
    why: `the connection to ${server} died with an error during the data transfer (RST from the server or an ICMP message)`,
    also: [{ cause: 'firewall_or_network', why: 'an intermediate equipment may have broken the connection' }],
    summary: `connection to ${server} died during the response body (SD)`,
    confidence: 'medium',
  }),
  sD: (server) => ({
    code: 'GW_READ_TIMEOUT',
    phase: 'read_body',
    why: `${server} sent no data for "timeout server" during the data phase`,
    also: [
      {
        cause: 'firewall_or_network',
        why: 'a firewall or load balancer before the server with a shorter idle timeout drops the connection',
      },
    ],
    summary: `server timeout during the response body from ${server} (sD)`,
    confidence: 'medium',
  }),
  PH: (server) => ({
    code: 'GW_BAD_RESPONSE',
    phase: 'read_head',
    why: `HAProxy blocked the response of ${server}: invalid, incomplete, or an invalid header name`,
    also: [
      { cause: 'buffer_or_limit_config', why: 'a response head larger than tune.bufsize is rejected too' },
      { cause: 'tls_mismatch', why: 'TLS bytes on a plain server line are not HTTP' },
    ],
    summary: `invalid response from ${server} blocked (502, PH)`,
    confidence: 'medium',
  }),
  PD: (server) => ({
    code: 'GW_BAD_RESPONSE',
    phase: 'read_body',
    why: `${server} sent an incorrectly formatted chunked body after its headers`,
    summary: `invalid chunked body from ${server} (PD)`,
    confidence: 'high',
  }),
  sQ: () => ({
    error: 'connection_limit_reached',
    cause: 'overload_or_exhaustion',
    phase: 'queue',
    why: 'the request waited in the queue longer than "timeout queue": every server was at its maxconn',
    also: [{ cause: 'slow_backend', why: 'slow servers hold their slots longer' }],
    summary: 'queue timeout (503, sQ)',
    confidence: 'high',
  }),
  PC: () => ({
    error: 'connection_limit_reached',
    cause: 'overload_or_exhaustion',
    phase: 'connect',
    why: "the process's socket limit (global maxconn / ulimit-n) was reached while connecting",
    summary: 'proxy socket limit reached (PC)',
    confidence: 'high',
  }),
  RC: () => ({
    code: 'EADDRNOTAVAIL',
    phase: 'connect',
    why: 'a local resource ran out (memory, sockets, source ports) before the connection to the server',
    summary: 'local resource exhausted while connecting (RC)',
    confidence: 'high',
  }),
};

/** By first character only, when the pair is not listed. */
const FIRST: Readonly<Record<string, (server: string, state: string) => Body>> = {
  D: (server, state) => ({
    error: 'destination_unavailable',
    cause: 'backend_down',
    why: `${server} was detected DOWN and its connections were killed (on-marked-down shutdown-sessions)`,
    summary: `stream killed: server ${server} went down (${state})`,
    confidence: 'high',
  }),
  I: (_server, state) => ({
    error: 'proxy_internal_error',
    cause: 'other',
    why: 'HAProxy detected an internal error; the manual asks to report such logs',
    summary: `internal error in HAProxy (${state})`,
    confidence: 'high',
  }),
  R: (_server, state) => ({
    error: 'proxy_internal_error',
    cause: 'overload_or_exhaustion',
    why: 'a resource of the proxy ran out (memory, sockets, source ports)',
    summary: `proxy resource exhausted (${state})`,
    confidence: 'high',
  }),
};

const NOT_FAILURE: Readonly<Record<string, string>> = {
  C: 'the client aborted',
  c: 'the client timed out',
  L: 'HAProxy answered the request itself',
  K: 'an administrator killed the stream',
  U: 'the backup server session was killed when an active server came back',
  '-': 'normal completion',
};

function decide(state: string, server: string, status: number): Body {
  const pair = state.slice(0, 2);
  const byPair = STATES[pair];
  if (byPair) return byPair(server);
  const byFirst = FIRST[pair[0]!];
  if (byFirst) return byFirst(server, pair);
  if (pair === 'PR' || pair === 'PT') {
    return {
      error: status === 400 ? 'http_request_error' : 'http_request_denied',
      cause: status === 400 ? 'protocol_error' : 'other',
      why: 'HAProxy blocked the request (invalid syntax or a deny rule); nothing reached a server',
      summary: `request blocked by HAProxy (${status}, ${pair})`,
      confidence: 'high',
    };
  }
  const words = NOT_FAILURE[pair[0]!] ?? 'not a server failure';
  const fromServer = pair[0] === '-' && status >= 500;
  const waiting = pair === 'CH' || pair === 'cH';
  return {
    error: null,
    cause: 'other',
    why: fromServer
      ? `${server} itself answered ${status}`
      : `${words}${waiting ? ' while waiting for the response' : ''}`,
    ...(waiting
      ? { also: [{ cause: 'slow_backend' as const, why: 'the server may have been too slow for the client' }] }
      : {}),
    summary: fromServer ? `${server} answered ${status}` : `${words} (${pair}, ${status})`,
    confidence: fromServer ? 'medium' : 'high',
  };
}

/** Health check results as check.c describes them, to the cause they point at. */
const CHECK_REASONS: readonly (readonly [RegExp, RootCause, string])[] = [
  [/Layer4 timeout/, 'firewall_or_network', 'the health check got no TCP connection in time'],
  [/Layer6 (?:invalid response|timeout)/, 'tls_config', 'the health check failed at the TLS layer'],
  [/Layer7 timeout/, 'slow_backend', 'the health check got no HTTP answer in time'],
  [/Layer7 invalid response/, 'protocol_error', 'the health check got an invalid HTTP answer'],
  [/Layer7 wrong status/, 'other', 'the health check endpoint answered with an error status'],
  [/Socket error|Layer4 connection problem/, 'backend_down', 'the health check could not connect'],
];

function serverState(line: string): Finding | undefined {
  const down = /(?:Backup )?Server (\S+) is DOWN(?:, reason: ([^,]+))?(?:, code: (\d+))?(?:, info: "([^"]*)")?/.exec(
    line,
  );
  if (down) {
    const reason = down[2] ?? '';
    const info = down[4] ?? '';
    const code = errnoCodeIn(info);
    const byCode = code === undefined ? undefined : classifyCode(code, 'connect');
    const known = CHECK_REASONS.find(([pattern]) => pattern.test(reason));
    const cause = byCode?.cause ?? known?.[1] ?? 'backend_down';
    return {
      source: 'haproxy',
      upstream: down[1]!,
      target: '',
      error: null,
      cause,
      why: `${known?.[2] ?? 'the health check failed'}${reason ? ` (${reason}${down[3] ? `, code ${down[3]}` : ''}${info ? `: ${info}` : ''})` : ''}`,
      checks: [RUNTIME_STATE],
      summary: `server ${down[1]} marked DOWN by its health check; requests go to the others, or get 503 when none is left`,
      confidence: 'high',
    };
  }
  const none = /(?:backend|proxy) '?([\w.:-]+)'? has no server available!/.exec(line);
  if (none) {
    return {
      source: 'haproxy',
      upstream: none[1]!,
      target: '',
      code: 'GW_NO_SERVER',
      phase: 'select',
      why: `every server of backend ${none[1]} is DOWN: requests get 503 until one comes back`,
      checks: [RUNTIME_STATE],
      summary: `backend ${none[1]} has no server available (503)`,
      confidence: 'high',
    };
  }
  const ports = /Connect\(\) failed for backend (\S+): (no free ports|local address already in use)/.exec(line);
  if (ports) {
    return {
      source: 'haproxy',
      upstream: ports[1]!,
      target: '',
      code: 'EADDRNOTAVAIL',
      phase: 'connect',
      why: `HAProxy found ${ports[2]} for a new connection to backend ${ports[1]}: source ports exhausted`,
      summary: `connect failed for backend ${ports[1]}: ${ports[2]}`,
      confidence: 'high',
    };
  }
  return undefined;
}

function recognise(input: LineInput): Finding | undefined {
  if (input.json !== undefined) return undefined;
  const http = HTTP_LOG.exec(input.line);
  if (http) {
    const server = `${http[5]}/${http[6]}`;
    const time = fromClfDate(http[3]!);
    return {
      source: 'haproxy',
      ...(time !== undefined ? { time } : {}),
      upstream: http[6] === '<NOSRV>' ? http[5]! : server,
      target: '',
      ...decide(http[14]!, http[6] === '<NOSRV>' ? '<NOSRV>' : server, Number(http[12])),
    };
  }
  const tcp = TCP_LOG.exec(input.line);
  if (tcp) {
    const server = `${tcp[5]}/${tcp[6]}`;
    const time = fromClfDate(tcp[3]!);
    return {
      source: 'haproxy',
      ...(time !== undefined ? { time } : {}),
      upstream: tcp[6] === '<NOSRV>' ? tcp[5]! : server,
      target: '',
      ...decide(tcp[11]!, tcp[6] === '<NOSRV>' ? '<NOSRV>' : server, 0),
    };
  }
  return serverState(input.line);
}

export const haproxy: Recogniser = { source: 'haproxy', recognise };
