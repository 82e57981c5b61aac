/**
 * AWS Application Load Balancer access logs, fields in the order the Elastic Load Balancing guide
 * lists them ("Access log entries"): type time elb client:port target:port request_processing_time
 * target_processing_time response_processing_time elb_status_code target_status_code received_bytes
 * sent_bytes "request" "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
 * "chosen_cert_arn" matched_rule_priority request_creation_time "actions_executed" "redirect_url"
 * "error_reason" ... The meaning of 502/503/504 with target_status_code "-" follows the guide's
 * "Troubleshoot your Application Load Balancers"; error_reason codes are its Lambda and WAF codes.
 */
import type { RootCause } from '../taxonomy.js';
import { fromIso } from './time.js';
import type { Finding, LineInput, Recogniser } from './types.js';

type Body = Omit<Finding, 'source' | 'time' | 'upstream'>;

const TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);

/** Space-separated fields, with double-quoted fields kept whole (quotes removed). */
function fields(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** error_reason codes for Lambda targets and WAF, to the cause each names. */
const ERROR_REASONS: readonly (readonly [RegExp, RootCause, string])[] = [
  [
    /^LambdaAccessDenied$|^LambdaKMSAccessDeniedException$|^LambdaEC2AccessDeniedException$/,
    'permission_or_selinux',
    'the load balancer or Lambda was denied access',
  ],
  [
    /^LambdaThrottling$|^LambdaEC2ThrottledException$|LimitReached/,
    'overload_or_exhaustion',
    'Lambda throttled or ran out of capacity',
  ],
  [
    /^LambdaResponseTooLarge$|^LambdaRequestTooLarge$/,
    'buffer_or_limit_config',
    'the payload exceeded the 1 MB Lambda limit',
  ],
  [/^LambdaInvalidResponse$/, 'protocol_error', 'the Lambda response is malformed or misses required fields'],
  [/^LambdaUnhandled$/, 'crash_or_oom', 'the Lambda function raised an unhandled exception'],
  [/^LambdaResourceNotFound$/, 'wrong_upstream_address', 'the Lambda function could not be found'],
  [
    /^LambdaConnectionTimeout$|^WAFConnectionTimeout$|^WAFConnectionError$/,
    'firewall_or_network',
    'a connection from the load balancer timed out or failed',
  ],
  [/^WAFResponseReadTimeout$/, 'slow_backend', 'AWS WAF answered too late'],
];

function decide(
  elbStatus: number,
  targetStatus: string,
  target: string,
  times: readonly number[],
  reason: string,
): Body {
  const [requestTime = 0, targetTime = 0] = times;
  const dispatched = target !== '-';
  if (reason !== '' && reason !== '-') {
    const known = ERROR_REASONS.find(([pattern]) => pattern.test(reason));
    if (known) {
      return {
        error: elbStatus === 504 ? 'connection_read_timeout' : elbStatus >= 500 ? 'connection_terminated' : null,
        cause: known[1],
        why: `error_reason ${reason}: ${known[2]}`,
        summary: `${elbStatus} with error_reason ${reason}`,
        confidence: 'high',
      };
    }
    if (/^Auth/.test(reason)) {
      return {
        error: elbStatus >= 500 ? 'proxy_internal_error' : null,
        cause: 'other',
        why: `the authenticate action failed: ${reason}`,
        summary: `${elbStatus}: authentication failed (${reason})`,
        confidence: 'high',
      };
    }
  }
  if (elbStatus === 460) {
    return {
      error: null,
      cause: 'other',
      why: 'the client closed the connection before the idle timeout; nothing failed at the target',
      summary: 'client closed the connection (460)',
      confidence: 'high',
    };
  }
  if (elbStatus < 500) {
    return {
      error: null,
      cause: 'other',
      why: `answered ${elbStatus}`,
      summary: `not a failure (${elbStatus})`,
      confidence: 'high',
    };
  }
  if (targetStatus !== '-' && targetStatus === String(elbStatus)) {
    return {
      error: null,
      cause: 'other',
      why: `the target itself answered ${targetStatus}; the load balancer passed it on`,
      summary: `target answered ${targetStatus}`,
      confidence: 'high',
      checks: [{ what: "Read the target's own logs for this request" }],
    };
  }
  if (elbStatus === 503) {
    return {
      code: 'GW_NO_SERVER',
      phase: 'select',
      why: 'the target group has no registered (or no healthy) target to send the request to',
      also: [
        {
          cause: 'wrong_upstream_address',
          why: 'targets may be registered on a port nothing listens on, failing health checks',
        },
      ],
      summary: 'no target to route to (503)',
      confidence: dispatched ? 'medium' : 'high',
    };
  }
  if (elbStatus === 504) {
    return targetTime < 0 && !dispatched
      ? {
          code: 'GW_CONNECT_TIMEOUT',
          phase: 'connect',
          why: 'the load balancer could not connect to a target within its 10 s connect timeout: security group, network ACL or a stopped target',
          also: [{ cause: 'backend_down', why: 'the target instance may be stopped or overloaded' }],
          summary: 'gateway timeout connecting to the target (504)',
          confidence: 'medium',
        }
      : {
          code: 'GW_READ_TIMEOUT',
          phase: 'read_head',
          why: `target ${target} did not answer before the load balancer's idle timeout`,
          also: [
            {
              cause: 'firewall_or_network',
              why: 'a network ACL blocking the return traffic on ephemeral ports looks the same',
            },
            {
              cause: 'protocol_error',
              why: 'a Content-Length larger than the body makes the load balancer wait for the missing bytes',
            },
          ],
          summary: `gateway timeout waiting for ${target} (504)`,
          confidence: 'medium',
        };
  }
  // 502 from the load balancer itself.
  return {
    code: 'GW_UPSTREAM_CLOSED',
    phase: 'read_head',
    cause: 'keepalive_mismatch',
    why: `${dispatched ? `target ${target}` : 'the target'} closed (FIN or RST) a connection with an outstanding request: most often its keep-alive timeout is shorter than the load balancer's idle timeout (60 s; Node's default is 5 s)`,
    also: [
      { cause: 'crash_or_oom', why: 'the target process may have crashed mid-request' },
      { cause: 'backend_down', why: 'a target that refuses the connection (RST) gives 502 too' },
      { cause: 'tls_config', why: 'a failed TLS handshake with an HTTPS target gives 502' },
    ],
    summary: `bad gateway from the load balancer (502)${requestTime < 0 ? ', request never dispatched' : ''}`,
    confidence: 'low',
  };
}

function recognise(input: LineInput): Finding | undefined {
  if (input.json !== undefined) return undefined;
  const f = fields(input.line);
  if (f.length < 13 || !TYPES.has(f[0]!) || !/^app\//.test(f[2] ?? '')) return undefined;
  const elbStatus = Number(f[8]);
  if (!Number.isInteger(elbStatus)) return undefined;
  const time = fromIso(f[1]);
  const target = f[4] ?? '-';
  const body = decide(elbStatus, f[9] ?? '-', target, [Number(f[5]), Number(f[6]), Number(f[7])], f[24] ?? '-');
  return {
    source: 'aws_alb',
    ...(time !== undefined ? { time } : {}),
    ...(target !== '-' ? { upstream: target } : {}),
    ...body,
  };
}

export const alb: Recogniser = { source: 'aws_alb', recognise };
