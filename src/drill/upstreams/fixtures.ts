import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest folder above this module holding package.json. Walking up works the
 * same from src/ and from the compiled dist/src/, whatever the folder depth.
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const TLS_DIR = join(packageRoot(), 'test', 'fixtures', 'tls');

/** Absolute paths of the committed TLS fixtures (made by scripts/gen-test-certs.sh). */
export const TEST_TLS_FIXTURES = {
  dir: TLS_DIR,
  ca: join(TLS_DIR, 'ca.pem'),
  caKey: join(TLS_DIR, 'ca-key.pem'),
  /** localhost, 127.0.0.1 and ::1, signed by the test CA. */
  server: join(TLS_DIR, 'server.pem'),
  serverKey: join(TLS_DIR, 'server-key.pem'),
  selfSigned: join(TLS_DIR, 'self-signed.pem'),
  selfSignedKey: join(TLS_DIR, 'self-signed-key.pem'),
  /** Signed by the test CA, valid only in 2020. */
  expired: join(TLS_DIR, 'expired.pem'),
  expiredKey: join(TLS_DIR, 'expired-key.pem'),
  /** Signed by the test CA for wrong.example only. */
  wrongHost: join(TLS_DIR, 'wrong-host.pem'),
  wrongHostKey: join(TLS_DIR, 'wrong-host-key.pem'),
} as const;

/** The CA certificate that signs the 'tls' behaviour's certificate. */
export const TEST_CA_PATH: string = TEST_TLS_FIXTURES.ca;

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export type FixtureCertificate = 'server' | 'selfSigned' | 'expired' | 'wrongHost';

const KEY_PAIR_PATHS: Record<FixtureCertificate, { cert: string; key: string }> = {
  server: { cert: TEST_TLS_FIXTURES.server, key: TEST_TLS_FIXTURES.serverKey },
  selfSigned: { cert: TEST_TLS_FIXTURES.selfSigned, key: TEST_TLS_FIXTURES.selfSignedKey },
  expired: { cert: TEST_TLS_FIXTURES.expired, key: TEST_TLS_FIXTURES.expiredKey },
  wrongHost: { cert: TEST_TLS_FIXTURES.wrongHost, key: TEST_TLS_FIXTURES.wrongHostKey },
};

export function loadKeyPair(which: FixtureCertificate): KeyPair {
  const paths = KEY_PAIR_PATHS[which];
  return { cert: readFileSync(paths.cert), key: readFileSync(paths.key) };
}
