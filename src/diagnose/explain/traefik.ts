/**
 * Traefik. Its proxy's ErrorHandler (pkg/proxy/httputil/proxy.go) logs each failed round trip:
 * Traefik v2 as logrus text or JSON, msg="'502 Bad Gateway' caused by: <Go error>", Traefik v3
 * through zerolog, message "502 Bad Gateway" with the Go error in "error" (JSON) or error="..."
 * (console). Its access log is CLF with "<count> "<router>" "<server URL>" <ms>ms" appended, or JSON
 * with DownstreamStatus, OriginStatus (0 when the backend sent nothing), ServiceURL and ServiceAddr.
 */
import { explainAccess } from './access.js';
import { goError, isClientCancel, upstreamOfGoError } from './go-errors.js';
import { parseCombined } from './nginx-access.js';
import { fromIso } from './time.js';
import type { Finding, LineInput, Recogniser } from './types.js';

const ERROR_LOG = "Traefik's debug log (log.level=DEBUG)";

function fromGoError(status: number, error: string, time: string | undefined): Finding {
  const base = { source: 'traefik' as const, ...(time !== undefined ? { time } : {}) };
  const target = upstreamOfGoError(error);
  const upstream = target !== undefined ? { upstream: target } : {};
  if (isClientCancel(error)) {
    return {
      ...base,
      error: null,
      cause: 'other',
      why: 'the client went away (context canceled); Traefik logs it as 499',
      summary: 'client closed the request (499)',
      confidence: 'high',
    };
  }
  const body = goError(error);
  if (body === undefined) {
    return {
      ...base,
      ...upstream,
      error: status === 504 ? 'connection_read_timeout' : status === 502 ? 'connection_terminated' : null,
      cause: 'other',
      why: `Traefik answered ${status}: ${error}`,
      summary: `${status} from Traefik: ${error}`,
      confidence: 'low',
    };
  }
  return { ...base, ...upstream, ...body, summary: `${body.summary} (${status})` };
}

/** v2 logrus text: time="..." level=debug msg="'502 Bad Gateway' caused by: ..." */
const LOGRUS = /(?:^|\s)time="([^"]*)".*?\smsg="'(\d{3}) [^']*' caused by: ((?:[^"\\]|\\.)*)"/;
/** v3 console: 2024-05-01T10:00:00Z DBG .../proxy.go:113 > 502 Bad Gateway error="..." */
const CONSOLE = /^(\S+) (?:DBG|ERR|WRN|INF) .*?> (\d{3}) [A-Za-z ]+? error="((?:[^"\\]|\\.)*)"/;
/** CLF with Traefik's additions. */
const CLF_TAIL = /^ (\d+) "([^"]*)" "([^"]*)" (\d+)ms/;

function unquote(text: string): string {
  return text.replaceAll('\\"', '"').replaceAll('\\\\', '\\');
}

function recogniseJson(json: Readonly<Record<string, unknown>>): Finding | undefined {
  const time = fromIso(json['time']) ?? fromIso(json['StartUTC']);
  if (typeof json['DownstreamStatus'] === 'number') {
    const status = json['DownstreamStatus'];
    const origin = typeof json['OriginStatus'] === 'number' ? json['OriginStatus'] : 0;
    const service = json['ServiceURL'] ?? json['ServiceAddr'];
    return explainAccess({
      source: 'traefik',
      status,
      backendAnswered: origin > 0,
      ...(time !== undefined ? { time } : {}),
      ...(typeof service === 'string' && service !== '' ? { upstream: service } : {}),
      errorLog: ERROR_LOG,
    });
  }
  // v2 JSON (logrus): msg "'502 Bad Gateway' caused by: ..."; v3 JSON (zerolog): message "502 Bad Gateway", error "...".
  const msg = typeof json['msg'] === 'string' ? json['msg'] : '';
  const v2 = /^'(\d{3}) [^']*' caused by: (.*)$/.exec(msg);
  if (v2) return fromGoError(Number(v2[1]), v2[2]!, time);
  const message = typeof json['message'] === 'string' ? json['message'] : '';
  const v3 = /^(\d{3}) [A-Za-z ]+$/.exec(message);
  if (v3 && typeof json['error'] === 'string') return fromGoError(Number(v3[1]), json['error'], time);
  return undefined;
}

function recogniseText(line: string): Finding | undefined {
  const logrus = LOGRUS.exec(line);
  if (logrus) return fromGoError(Number(logrus[2]), unquote(logrus[3]!), fromIso(logrus[1]));
  const zerolog = CONSOLE.exec(line);
  if (zerolog) return fromGoError(Number(zerolog[2]), unquote(zerolog[3]!), fromIso(zerolog[1]));
  const clf = parseCombined(line);
  if (clf) {
    const tail = CLF_TAIL.exec(clf.tail);
    if (!tail) return undefined;
    return explainAccess({
      source: 'traefik',
      status: clf.status,
      ...(clf.time !== undefined ? { time: clf.time } : {}),
      ...(tail[3] !== '' && tail[3] !== '-' ? { upstream: tail[3]! } : {}),
      errorLog: ERROR_LOG,
    });
  }
  if (/\bno available server\b/.test(line) && /traefik/i.test(line)) {
    return {
      source: 'traefik',
      code: 'GW_NO_SERVER',
      phase: 'select',
      why: 'the service has no server left: every server failed its health check, or none is defined',
      summary: 'no available server (503)',
      confidence: 'high',
    };
  }
  return undefined;
}

function recognise(input: LineInput): Finding | undefined {
  return input.json !== undefined ? recogniseJson(input.json) : recogniseText(input.line);
}

export const traefik: Recogniser = { source: 'traefik', recognise };
