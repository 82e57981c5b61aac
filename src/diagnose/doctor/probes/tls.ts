/**
 * One TLS handshake: does the port speak TLS, and what certificate does it present. Verification is
 * done here by hand (the handshake itself accepts anything) so that one probe answers both "is this
 * a TLS port" and "would the gateway accept its certificate".
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { classify } from '../../classify.js';
import type { Failure } from '../../failure.js';
import { type Endpoint, endpointText } from './endpoint.js';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
  /** DNS and IP names of subjectAltName, else the subject CN. */
  names: string[];
  selfSigned: boolean;
}

export interface HandshakeOptions {
  /** SNI name to send; undefined sends none. */
  sni: string | undefined;
  caFile: string | undefined;
  /** The name the certificate must carry. */
  verifyName: string;
}

export interface HandshakeResult {
  ok: boolean;
  ms: number;
  failure?: Failure;
  protocol?: string;
  certificate?: CertificateInfo;
  /** The chain does not verify against the trusted CAs (OpenSSL's reason), '' when it does. */
  chainError?: string;
  /** The certificate does not carry verifyName, '' when it does. */
  nameError?: string;
  /** The CA file could not be read. */
  caError?: string;
}

export function handshakeProbe(
  endpoint: Endpoint,
  options: HandshakeOptions,
  timeoutMs: number,
  upstream: string,
): Promise<HandshakeResult> {
  let ca: Buffer | undefined;
  let caError: string | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = readFileSync(options.caFile);
    } catch (error) {
      caError = `${options.caFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
  }
  return new Promise((resolve) => {
    const started = performance.now();
    const servername = options.sni !== undefined && net.isIP(options.sni) === 0 ? options.sni : undefined;
    const socket = tls.connect({
      ...(endpoint.kind === 'unix' ? { path: endpoint.path } : { host: endpoint.address, port: endpoint.port }),
      servername,
      ca,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    let settled = false;
    const finish = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (error !== undefined) {
        socket.destroy();
        const failure = classify(error, {
          phase: 'tls',
          upstream,
          server: endpointText(endpoint),
          attempt: 0,
          reused: false,
        });
        resolve({ ok: false, ms, failure, ...(caError ? { caError } : {}) });
        return;
      }
      const peer = socket.getPeerCertificate();
      const certificate = peer && Object.keys(peer).length > 0 ? certificateInfo(peer) : undefined;
      // Node checks the name against the address connected to after the chain verified; doctor
      // checks the name the gateway checks itself (nameError), so only chain errors are kept here.
      const authorizationError = socket.authorized ? '' : String(socket.authorizationError ?? 'unverified');
      const chainError = authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID' ? '' : authorizationError;
      const nameError = peer ? (tls.checkServerIdentity(options.verifyName, peer)?.message ?? '') : 'no certificate';
      const protocol = socket.getProtocol() ?? undefined;
      socket.destroy();
      resolve({ ok: true, ms, protocol, certificate, chainError, nameError, ...(caError ? { caError } : {}) });
    };
    const timer = setTimeout(
      () =>
        finish(Object.assign(new Error(`no TLS answer within ${timeoutMs} ms`), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })),
      timeoutMs,
    );
    socket.once('secureConnect', () => finish(undefined));
    socket.once('error', (error) => finish(error));
    // A peer that closes without a TLS answer: the port does not speak TLS.
    socket.once('close', () =>
      finish(Object.assign(new Error('peer closed the connection during the TLS handshake'), { code: 'ECONNRESET' })),
    );
  });
}

function certificateInfo(peer: tls.PeerCertificate): CertificateInfo {
  const names = (peer.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim().replace(/^(DNS|IP Address):/, ''))
    .filter((name) => name !== '');
  const subject = firstOf(peer.subject?.CN);
  const issuer = firstOf(peer.issuer?.CN);
  return {
    subject,
    issuer,
    validFrom: new Date(peer.valid_from),
    validTo: new Date(peer.valid_to),
    names: names.length > 0 ? names : subject ? [subject] : [],
    selfSigned: subject === issuer && JSON.stringify(peer.subject) === JSON.stringify(peer.issuer),
  };
}

function firstOf(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
