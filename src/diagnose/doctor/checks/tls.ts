/**
 * TLS in both directions. For a plain target, does the port speak TLS (a ClientHello answered by a
 * ServerHello, TLS records or "plain HTTP request was sent to HTTPS port" in answer to plain
 * HTTP)? For a TLS target, does the handshake work, or does the port answer plain HTTP? Then the
 * certificate: chain, name, dates, and the SNI name nginx does (not) send.
 */
import { isIP } from 'node:net';
import { isPlainHttpToTlsAnswer } from '../../classify.js';
import { type Endpoint, endpointText, formatMs, type HandshakeResult, type HttpResult } from '../probes/index.js';
import type { DoctorFinding } from '../types.js';
import {
  type CheckContext,
  configEvidence,
  connectedEndpoints,
  type DoctorCheck,
  finding,
  healthRequest,
  runParallel,
  type ServerJob,
  serverJobs,
} from './shared.js';

const DAY_MS = 86_400_000;
const EXPIRY_WARNING_DAYS = 14;

/** The plain request's answer shows a TLS server: TLS records, a known 400, or silence where a handshake works. */
export function plainAnswerShowsTls(answer: HttpResult): boolean {
  if (answer.outcome === 'tls_bytes') return true;
  if (answer.outcome === 'response') return isPlainHttpToTlsAnswer(answer.status ?? 0, answer.bodyStart ?? '');
  return answer.outcome === 'closed' || answer.outcome === 'error' || answer.outcome === 'bad_response';
}

function answerText(answer: HttpResult): string {
  if (answer.outcome === 'response') return `answered "${answer.statusLine}" in ${formatMs(answer.ms)}`;
  if (answer.outcome === 'tls_bytes') return `answered with TLS records ${answer.firstBytes ?? ''}`.trim();
  return `${answer.outcome}${answer.code ? ` (${answer.code})` : ''} after ${formatMs(answer.ms)}`;
}

async function plainTarget(ctx: CheckContext, job: ServerJob, endpoint: Endpoint): Promise<DoctorFinding | undefined> {
  const place = endpointText(endpoint);
  const hello = await ctx.probes.handshake(
    endpoint,
    { sni: undefined, caFile: undefined, verifyName: '' },
    job.target.upstream,
  );
  if (!hello.ok) return finding('ok', 'tls', `${place} does not speak TLS, as configured`, { target: job.label });
  const scheme = job.target.protocol === 'http' ? 'http://' : `${job.target.protocol} without TLS`;
  const evidence = [
    ...configEvidence(job),
    `TLS handshake with ${place} completed (${hello.protocol}) in ${formatMs(hello.ms)}`,
  ];
  if (job.target.protocol === 'http') {
    const answer = await ctx.probes.http(endpoint, healthRequest(ctx, job.target, job.server));
    evidence.push(`plain HTTP request ${answerText(answer)}`);
    if (!plainAnswerShowsTls(answer))
      return finding('info', 'tls', `${place} answers both TLS and plain HTTP`, { target: job.label, evidence });
  }
  const fix =
    ctx.model.kind === 'nginx'
      ? `use https:// (proxy_pass https://...) for ${job.target.upstream}, or point it at the backend's plain-HTTP port`
      : `use https:// in the server url, or point it at the backend's plain-HTTP port`;
  return finding('critical', 'tls', `${scheme} target ${place} speaks TLS`, {
    target: job.label,
    evidence,
    cause: 'tls_mismatch',
    fix,
  });
}

async function tlsTarget(ctx: CheckContext, job: ServerJob, endpoint: Endpoint): Promise<DoctorFinding[]> {
  const settings = job.server.tls!;
  const place = endpointText(endpoint);
  const options = { sni: settings.sni, caFile: settings.caFile, verifyName: settings.verifyName };
  const hello = await ctx.probes.handshake(endpoint, options, job.target.upstream);
  const evidence = configEvidence(job);
  if (!hello.ok) {
    const failure = hello.failure!;
    evidence.push(`${failure.detail} after ${formatMs(hello.ms)}`);
    const name = settings.verifyName;
    if (settings.sni === undefined && name !== '' && isIP(name) === 0) {
      const withSni = await ctx.probes.handshake(endpoint, { ...options, sni: name }, job.target.upstream);
      if (withSni.ok)
        return [
          finding('critical', 'tls', `${place} completes the TLS handshake only with SNI, and none is sent`, {
            target: job.label,
            evidence: [
              ...evidence,
              `with SNI "${name}": handshake completed in ${formatMs(withSni.ms)}`,
              `${settings.sniSetting} is off`,
            ],
            cause: 'tls_config',
            fix: `set "${settings.sniSetting} on;" (and proxy_ssl_name ${name}; when the upstream block's name differs)`,
          }),
        ];
    }
    const plain = await ctx.probes.http(endpoint, { ...healthRequest(ctx, job.target, job.server), tls: undefined });
    if (plain.outcome === 'response' && !isPlainHttpToTlsAnswer(plain.status ?? 0, plain.bodyStart ?? '')) {
      evidence.push(`plain HTTP request ${answerText(plain)}`);
      return [
        finding('critical', 'tls', `https:// target ${place} speaks plain HTTP`, {
          target: job.label,
          evidence,
          cause: 'tls_mismatch',
          fix: `use http:// for ${job.target.upstream}, or point it at the backend's TLS port`,
        }),
      ];
    }
    return [
      finding('critical', 'tls', `TLS handshake with ${place} failed: ${failure.code}`, {
        target: job.label,
        evidence,
        cause: failure.cause,
      }),
    ];
  }
  const findings = certificateFindings(job, place, hello, evidence);
  if (settings.sni === undefined && isIP(settings.verifyName) === 0 && settings.verifyName !== '')
    findings.push(...(await sniFindings(ctx, job, endpoint, hello, evidence)));
  return findings;
}

function certificateFindings(
  job: ServerJob,
  place: string,
  hello: HandshakeResult,
  evidence: string[],
): DoctorFinding[] {
  const settings = job.server.tls!;
  const cert = hello.certificate;
  const now = Date.now();
  const problems: string[] = [];
  if (hello.caError) problems.push(`trusted CA file unreadable: ${hello.caError}`);
  if (cert && cert.validTo.getTime() < now) problems.push(`certificate expired on ${cert.validTo.toISOString()}`);
  else if (cert && cert.validFrom.getTime() > now)
    problems.push(`certificate not valid before ${cert.validFrom.toISOString()}`);
  else if (hello.chainError) problems.push(`certificate chain does not verify: ${hello.chainError}`);
  if (hello.nameError) problems.push(`certificate does not match "${settings.verifyName}": ${hello.nameError}`);
  const certText = cert
    ? `certificate CN=${cert.subject || '-'} names [${cert.names.join(', ')}] issuer CN=${cert.issuer || '-'}${cert.selfSigned ? ' (self-signed)' : ''}, valid ${cert.validFrom.toISOString().slice(0, 10)} to ${cert.validTo.toISOString().slice(0, 10)}`
    : 'no certificate';
  const all = [...evidence, `${hello.protocol ?? 'TLS'} handshake in ${formatMs(hello.ms)}; ${certText}`, ...problems];
  if (problems.length > 0) {
    const title = `certificate of ${place}: ${problems[0]}`;
    if (settings.verify)
      return [finding('critical', 'tls', title, { target: job.label, evidence: all, cause: 'tls_config' })];
    return [
      finding('info', 'tls', `${title} (not verified by the gateway)`, {
        target: job.label,
        evidence: [
          ...all,
          `${settings.verifySetting} is off: the gateway accepts any certificate, so this causes no 502 but is not secure`,
        ],
        cause: 'tls_config',
      }),
    ];
  }
  if (cert && cert.validTo.getTime() - now < EXPIRY_WARNING_DAYS * DAY_MS) {
    const days = Math.max(0, Math.floor((cert.validTo.getTime() - now) / DAY_MS));
    return [
      finding('warning', 'tls', `certificate of ${place} expires in ${days} days`, {
        target: job.label,
        evidence: all,
        cause: 'tls_config',
        fix: 'renew the certificate before it expires',
      }),
    ];
  }
  return [
    finding(
      'ok',
      'tls',
      `${place}: ${hello.protocol ?? 'TLS'}, certificate valid${settings.verify ? ' and verified' : ''}`,
      {
        target: job.label,
        evidence: [certText],
      },
    ),
  ];
}

/** nginx sends no SNI unless proxy_ssl_server_name is on; many TLS servers then refuse or serve another certificate. */
async function sniFindings(
  ctx: CheckContext,
  job: ServerJob,
  endpoint: Endpoint,
  without: HandshakeResult,
  evidence: string[],
): Promise<DoctorFinding[]> {
  const settings = job.server.tls!;
  const name = settings.verifyName;
  const withSni = await ctx.probes.handshake(
    endpoint,
    { sni: name, caFile: settings.caFile, verifyName: name },
    job.target.upstream,
  );
  if (!withSni.ok) return [];
  const namesWithout = without.certificate?.names.join(', ') ?? '';
  const namesWith = withSni.certificate?.names.join(', ') ?? '';
  if (namesWithout === namesWith) return [];
  return [
    finding(
      settings.verify ? 'critical' : 'warning',
      'tls',
      `${endpointText(endpoint)} serves a different certificate without SNI`,
      {
        target: job.label,
        evidence: [
          ...evidence,
          `without SNI: [${namesWithout}]`,
          `with SNI "${name}": [${namesWith}]`,
          `${settings.sniSetting} is off`,
        ],
        cause: 'tls_config',
        fix: `set "${settings.sniSetting} on;" (and proxy_ssl_name ${name}; when the upstream block's name differs)`,
      },
    ),
  ];
}

async function checkServer(ctx: CheckContext, job: ServerJob): Promise<DoctorFinding[]> {
  // A stream (TCP) proxy passes TLS through untouched: either answer is legitimate there.
  if (job.target.protocol === 'tcp') return [];
  const endpoints = await connectedEndpoints(ctx, job);
  const findings: DoctorFinding[] = [];
  for (const endpoint of endpoints) {
    if (job.server.tls) findings.push(...(await tlsTarget(ctx, job, endpoint)));
    else {
      const found = await plainTarget(ctx, job, endpoint);
      if (found) findings.push(found);
    }
  }
  return findings;
}

export const tlsCheck: DoctorCheck = {
  name: 'tls',
  description: 'TLS both ways (plain targets on TLS ports, TLS targets on plain ports), certificates, SNI',
  run: (ctx) => runParallel(serverJobs(ctx.model), (job) => checkServer(ctx, job)),
};
