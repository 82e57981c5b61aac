/**
 * nginx access lines: the combined format ($remote_addr - $remote_user [$time_local] "$request"
 * $status $body_bytes_sent "$http_referer" "$http_user_agent") followed by upstream fields, either as
 * key=value pairs ($upstream_status, $upstream_addr, $upstream_connect_time, $upstream_header_time,
 * $upstream_response_time under their usual names) or in ingress-nginx's default log-format-upstream:
 *   ... $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name]
 *   $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id
 * Lists of attempts are ", "-separated, and " : " separates internal redirects, as nginx prints them.
 */
import { explainAccess } from './access.js';
import { fromClfDate } from './time.js';
import type { Finding, LineInput, Recogniser } from './types.js';

const COMBINED =
  /^(\S+) - (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)$/;

/** A list of attempts: "10.0.0.1:80, 10.0.0.2:80" or "502 : 200". */
const LIST = String.raw`(?:[^\s,]+(?:(?:, | : )[^\s,]+)*)`;

const INGRESS_TAIL = new RegExp(
  String.raw`^ (\d+) ([\d.]+) \[([^\]]*)\] \[([^\]]*)\] (${LIST}) (${LIST}) (${LIST}) (${LIST}) (\S+)`,
);

export interface CombinedLine {
  time: string | undefined;
  status: number;
  /** Everything after the user agent. */
  tail: string;
}

export function parseCombined(line: string): CombinedLine | undefined {
  const m = COMBINED.exec(line);
  if (!m) return undefined;
  return { time: fromClfDate(m[3]!), status: Number(m[5]), tail: m[9] ?? '' };
}

function splitList(text: string): string[] {
  return text.split(/\s*(?:,|\s:\s)\s*/).filter((s) => s !== '');
}

/** Upstream fields written as key=value (quoted or not), under the names nginx users commonly give them. */
const KEYS: Readonly<Record<string, 'status' | 'addr' | 'connect' | 'header' | 'response'>> = {
  upstream_status: 'status',
  us: 'status',
  ups: 'status',
  upstream_addr: 'addr',
  ua: 'addr',
  upa: 'addr',
  upstream: 'addr',
  upstream_connect_time: 'connect',
  uct: 'connect',
  upstream_header_time: 'header',
  uht: 'header',
  upstream_response_time: 'response',
  urt: 'response',
};

function keyValues(tail: string): Partial<Record<'status' | 'addr' | 'connect' | 'header' | 'response', string>> {
  const out: Partial<Record<'status' | 'addr' | 'connect' | 'header' | 'response', string>> = {};
  for (const m of tail.matchAll(/(?:^|\s)([a-z_]+)[=:]("([^"]*)"|(\S+))/g)) {
    const key = KEYS[m[1]!];
    if (key !== undefined) out[key] = m[3] ?? m[4] ?? '';
  }
  return out;
}

function recogniseIngress(input: LineInput): Finding | undefined {
  const line = parseCombined(input.line);
  if (line === undefined) return undefined;
  const m = INGRESS_TAIL.exec(line.tail);
  if (!m) return undefined;
  const [, , , upstreamName, , addr, , responseTime, statuses] = m;
  const addrs = splitList(addr!);
  const last = addrs[addrs.length - 1];
  const lastAddr = last !== undefined && last !== '-' ? last : undefined;
  const finding = explainAccess({
    source: 'ingress_nginx',
    status: line.status,
    upstreamStatuses: splitList(statuses!),
    responseSeconds: responseTime!,
    ...(line.time !== undefined ? { time: line.time } : {}),
    upstream: lastAddr ?? upstreamName!,
    errorLog: "the controller pod's nginx error log (kubectl logs -n ingress-nginx POD | grep error)",
  });
  if (lastAddr === undefined) finding.target = '';
  // The default backend answers when the Service has no ready endpoint.
  if (line.status === 503 && (upstreamName === 'upstream-default-backend' || addr === '-' || addr === '')) {
    return {
      ...finding,
      error: 'destination_unavailable',
      cause: 'backend_down',
      why: `no ready endpoint behind ${upstreamName || 'the Service'}: pods not ready, selector not matching, or scaled to zero`,
      also: [{ cause: 'wrong_upstream_address', why: 'the Service selector or targetPort may not match the pods' }],
      checks: [
        {
          what: 'Does the Service have ready endpoints?',
          command: 'kubectl get endpointslices -n NAMESPACE -l kubernetes.io/service-name=SERVICE',
        },
        { what: 'Are the pods ready?', command: 'kubectl get pods -n NAMESPACE -o wide' },
      ],
      summary: `no endpoint for ${upstreamName || 'the Service'} (503)`,
      confidence: 'medium',
    };
  }
  return finding;
}

function recogniseNginx(input: LineInput): Finding | undefined {
  const line = parseCombined(input.line);
  if (line === undefined) return undefined;
  const kv = keyValues(line.tail);
  const addrs = kv.addr === undefined ? [] : splitList(kv.addr);
  return explainAccess({
    source: 'nginx_access',
    status: line.status,
    ...(kv.status !== undefined ? { upstreamStatuses: splitList(kv.status) } : {}),
    ...(kv.connect !== undefined ? { connectSeconds: splitList(kv.connect).pop() ?? '-' } : {}),
    ...(kv.header !== undefined ? { headerSeconds: splitList(kv.header).pop() ?? '-' } : {}),
    ...(kv.response !== undefined ? { responseSeconds: kv.response } : {}),
    ...(line.time !== undefined ? { time: line.time } : {}),
    ...(addrs.length > 0 ? { upstream: addrs[addrs.length - 1]! } : {}),
    errorLog: 'the nginx error log',
  });
}

export const ingressNginxAccess: Recogniser = { source: 'ingress_nginx', recognise: recogniseIngress };
export const nginxAccess: Recogniser = { source: 'nginx_access', recognise: recogniseNginx };
