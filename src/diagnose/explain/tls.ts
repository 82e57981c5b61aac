/**
 * TLS failures as OpenSSL and BoringSSL print them, turned into the codes the classification table
 * knows. OpenSSL 3 prints "error:0A00010B:SSL routines::wrong version number", 1.1 prints
 * "error:1408F10B:SSL routines:ssl3_get_record:wrong version number", BoringSSL (Envoy) prints
 * "268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER"; the reason is what decides.
 */
import { REASON_PATTERNS } from '../rules.js';

/**
 * OpenSSL's certificate verification results (X509_V_ERR_*, x509_vfy.h) by number, named as Node.js
 * names them, for nginx's "upstream SSL certificate verify error: (10:certificate has expired)".
 */
const X509_VERIFY: Readonly<Record<number, string>> = {
  2: 'UNABLE_TO_GET_ISSUER_CERT',
  3: 'UNABLE_TO_GET_CRL',
  4: 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  6: 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  7: 'CERT_SIGNATURE_FAILURE',
  9: 'CERT_NOT_YET_VALID',
  10: 'CERT_HAS_EXPIRED',
  13: 'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  14: 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  18: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  19: 'SELF_SIGNED_CERT_IN_CHAIN',
  20: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  21: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  22: 'CERT_CHAIN_TOO_LONG',
  23: 'CERT_REVOKED',
  24: 'INVALID_CA',
  25: 'PATH_LENGTH_EXCEEDED',
  26: 'INVALID_PURPOSE',
  27: 'CERT_UNTRUSTED',
  28: 'CERT_REJECTED',
  62: 'HOSTNAME_MISMATCH',
};

/** A verification failure code for nginx's numbered result; CERT_REJECTED for a number not listed. */
export function x509VerifyCode(number: number): string {
  return X509_VERIFY[number] ?? 'CERT_REJECTED';
}

/** The reasons in an OpenSSL/BoringSSL error text, lower case with spaces ("wrong version number"). */
export function tlsReasons(text: string): string[] {
  const reasons: string[] = [];
  // OpenSSL: error:HEX:library:function:reason[:data]; function is empty in OpenSSL 3.
  for (const m of text.matchAll(/error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:)\]]+)/g)) reasons.push(m[1]!.trim().toLowerCase());
  // BoringSSL: NUMBER:SSL routines:OPENSSL_internal:REASON (Envoy may write '_' for spaces).
  for (const m of text.matchAll(/\d+:SSL[ _]routines:OPENSSL_internal:([A-Z0-9_]+)/g))
    reasons.push(m[1]!.replaceAll('_', ' ').toLowerCase());
  return reasons;
}

/** The classification code for a TLS failure text; undefined when the text names no reason known here. */
export function tlsCodeOf(text: string): string | undefined {
  const reasons = tlsReasons(text);
  const candidates = reasons.length > 0 ? reasons : [text.toLowerCase()];
  for (const reason of candidates) {
    if (/certificate verify failed/.test(reason)) return 'CERT_REJECTED';
    const known = REASON_PATTERNS.find((entry) => entry.pattern.test(reason));
    if (known) return known.code;
  }
  return reasons.length > 0 ? 'ERR_SSL_HANDSHAKE_FAILURE' : undefined;
}
