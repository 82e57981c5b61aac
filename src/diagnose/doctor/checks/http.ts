/**
 * One request to the health path of every server, judged as the gateway would judge the answer:
 * latency against the read timeout, response head size against the gateway's buffer, status, and
 * bytes that are not HTTP at all.
 */
import { classify, isPlainHttpToTlsAnswer } from '../../classify.js';
import { UpstreamError } from '../../errors.js';
import { type Endpoint, endpointText, formatMs, type HttpResult } from '../probes/index.js';
import type { DoctorFinding } from '../types.js';
import {
  type CheckContext,
  configEvidence,
  connectedEndpoints,
  type DoctorCheck,
  finding,
  formatBytes,
  formatSeconds,
  healthRequest,
  runParallel,
  type ServerJob,
  serverJobs,
} from './shared.js';
import { plainAnswerShowsTls } from './tls.js';

/** A response slower than this share of the read timeout is a warning: little headroom before 504s. */
const SLOW_SHARE = 0.5;

function gatewayWords(ctx: CheckContext): { name: string; tooBig: string; timeout: string } {
  return ctx.model.kind === 'nginx'
    ? {
        name: 'nginx',
        tooBig: 'nginx logs "upstream sent too big header while reading response header from upstream" and answers 502',
        timeout:
          'nginx logs "upstream timed out (110: Connection timed out) while reading response header" and answers 504',
      }
    : {
        name: 'Gatewise',
        tooBig: 'Gatewise answers 502 http_response_header_section_size',
        timeout: 'Gatewise answers 504 connection_read_timeout',
      };
}

/** A TLS mismatch is the tls check's to report; the request failing because of it says nothing new. */
async function tlsMismatch(
  ctx: CheckContext,
  job: ServerJob,
  endpoint: Endpoint,
  answer: HttpResult,
): Promise<boolean> {
  const tls = job.server.tls;
  if (tls) {
    if (answer.outcome === 'response' || answer.outcome === 'timeout') return false;
    const options = { sni: tls.sni, caFile: tls.caFile, verifyName: tls.verifyName };
    return !(await ctx.probes.handshake(endpoint, options, job.target.upstream)).ok;
  }
  if (!plainAnswerShowsTls(answer)) return false;
  const hello = await ctx.probes.handshake(
    endpoint,
    { sni: undefined, caFile: undefined, verifyName: '' },
    job.target.upstream,
  );
  return (
    hello.ok || answer.outcome === 'tls_bytes' || isPlainHttpToTlsAnswer(answer.status ?? 0, answer.bodyStart ?? '')
  );
}

async function checkEndpoint(ctx: CheckContext, job: ServerJob, endpoint: Endpoint): Promise<DoctorFinding[]> {
  const { target } = job;
  const request = healthRequest(ctx, target, job.server);
  const answer = await ctx.probes.http(endpoint, request);
  if (await tlsMismatch(ctx, job, endpoint, answer)) return [];
  const words = gatewayWords(ctx);
  const place = endpointText(endpoint);
  const asked = `GET ${request.path} to ${place}`;
  const evidence = configEvidence(job);
  const readSetting = `${target.settings.read} is ${formatSeconds(target.readTimeoutMs)}`;
  const limitSetting = `${target.settings.headerLimit} is ${formatBytes(target.maxResponseHeaderBytes)}`;
  const limitName = `${target.settings.headerLimit} ${formatBytes(target.maxResponseHeaderBytes)}`;
  const severity = job.server.backup ? 'warning' : 'critical';
  switch (answer.outcome) {
    case 'response': {
      const findings: DoctorFinding[] = [];
      const head = `${answer.statusLine} in ${formatMs(answer.ms)}, head ${answer.headBytes} bytes`;
      if ((answer.headBytes ?? 0) > target.maxResponseHeaderBytes)
        findings.push(
          finding(severity, 'http', `response head of ${place} is ${answer.headBytes} bytes, over ${limitName}`, {
            target: job.label,
            evidence: [...evidence, `${asked}: ${head}`, words.tooBig],
            cause: 'buffer_or_limit_config',
            fix: `raise ${target.settings.headerLimit} above ${answer.headBytes} bytes (e.g. ${formatBytes(nextPowerOfTwo(answer.headBytes ?? 0))}), or make the backend send fewer or smaller headers (cookies)`,
          }),
        );
      if (answer.ms > target.readTimeoutMs * SLOW_SHARE)
        findings.push(
          finding(
            'warning',
            'http',
            `${place} took ${formatMs(answer.ms)} to answer, more than half of the read timeout`,
            {
              target: job.label,
              evidence: [...evidence, `${asked}: ${head}`, readSetting],
              cause: 'slow_backend',
              fix: slowFix(target.settings.read),
            },
          ),
        );
      if ((answer.status ?? 0) >= 500)
        findings.push(
          finding('warning', 'http', `${asked} answered ${answer.status}`, {
            target: job.label,
            evidence: [...evidence, `${asked}: ${head}`],
            fix: `the backend itself reports a failure: read its logs${target.healthPath === '/' ? ' (or pass --path with its health path)' : ''}`,
          }),
        );
      if (findings.length === 0)
        findings.push(
          finding('ok', 'http', `${asked}: ${head}`, { target: job.label, evidence: [readSetting, limitSetting] }),
        );
      return findings;
    }
    case 'timeout': {
      const readTimeoutHit = request.waitMs >= target.readTimeoutMs;
      const title = readTimeoutHit
        ? `${place} sent no response head within ${target.settings.read} ${formatSeconds(target.readTimeoutMs)}`
        : `${place} sent no response head within ${formatMs(request.waitMs)}`;
      return [
        finding(readTimeoutHit ? severity : 'warning', 'http', title, {
          target: job.label,
          evidence: [
            ...evidence,
            `${asked}: ${answer.bytes} bytes received in ${formatMs(answer.ms)}`,
            readTimeoutHit ? words.timeout : `${readSetting}: doctor stopped waiting at its own limit (--timeout)`,
          ],
          cause: 'slow_backend',
          fix: slowFix(target.settings.read),
        }),
      ];
    }
    case 'too_large':
      return [
        finding(severity, 'http', `response head of ${place} exceeds ${answer.bytes} bytes, over ${limitName}`, {
          target: job.label,
          evidence: [...evidence, `${asked}: no end of head within ${answer.bytes} bytes`, words.tooBig],
          cause: 'buffer_or_limit_config',
          fix: `make the backend send fewer or smaller headers; ${target.settings.headerLimit} cannot sensibly hold this`,
        }),
      ];
    default: {
      const failure = classify(errorOf(answer), {
        phase: 'read_head',
        upstream: target.upstream,
        server: place,
        attempt: 0,
        reused: false,
        serverSpeaksTls: false,
      });
      return [
        finding(severity, 'http', `${asked} failed: ${failure.type}`, {
          target: job.label,
          evidence: [
            ...evidence,
            `${failure.detail} after ${formatMs(answer.ms)}`,
            ...(answer.firstBytes ? [`first bytes: ${answer.firstBytes}`] : []),
          ],
          cause: failure.cause,
        }),
      ];
    }
  }
}

function slowFix(setting: string): string {
  return `find out why the backend is slow (its logs, slow queries, blocked workers, GC pauses), or raise ${setting} if the slowness is expected`;
}

function errorOf(answer: HttpResult): unknown {
  if (answer.outcome === 'closed') return new UpstreamError('GW_UPSTREAM_CLOSED');
  if (answer.outcome === 'bad_response')
    return new UpstreamError('GW_BAD_RESPONSE', `not an HTTP response: ${answer.code ?? ''}`.trim());
  return Object.assign(new Error(answer.code ?? 'socket error'), { code: answer.code });
}

function nextPowerOfTwo(bytes: number): number {
  let size = 4096;
  while (size < bytes) size *= 2;
  return size;
}

/** Only targets that speak HTTP/1.x can be asked for their health path. */
const HTTP_PROTOCOLS = new Set(['http']);

async function checkServer(ctx: CheckContext, job: ServerJob): Promise<DoctorFinding[]> {
  if (!HTTP_PROTOCOLS.has(job.target.protocol)) {
    ctx.skip('http', `${job.label}`, `a ${job.target.protocol} target does not answer plain HTTP requests`);
    return [];
  }
  const endpoints = await connectedEndpoints(ctx, job);
  return (await Promise.all(endpoints.map((endpoint) => checkEndpoint(ctx, job, endpoint)))).flat();
}

export const httpCheck: DoctorCheck = {
  name: 'http',
  description: 'a request to the health path: latency against the read timeout, head size against the buffer, status',
  run: (ctx) => runParallel(serverJobs(ctx.model), (job) => checkServer(ctx, job)),
};
