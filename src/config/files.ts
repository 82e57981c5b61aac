import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { type Check, type CheckReporter, entriesOf, field, itemsOf } from './check.js';
import type { PathSegment } from './positions.js';
import type { Config } from './schema.js';

/**
 * Files the configuration names. Like `nginx -t`, a check reads every certificate and key now, so
 * that a missing or mismatched file is a config problem instead of a failed start or reload.
 * Relative paths are relative to the directory of the configuration file.
 */

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
};

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/** Why a file could not be read, in words (`does not exist`), or the errno code. */
export function readFailureReason(error: unknown): string {
  const code = codeOf(error);
  return REASONS[code] ?? code;
}

/** Reads files named relative to the configuration file, reporting at the value that names them. */
class FileReader {
  constructor(
    private readonly configFile: string,
    private readonly reporter: CheckReporter,
  ) {}

  /** The path as the user should see it: relative to where they ran the command when it was given so. */
  shown(name: string): string {
    return isAbsolute(name) ? name : join(dirname(this.configFile), name);
  }

  read(path: PathSegment[], name: string, what: string): Buffer | undefined {
    try {
      return readFileSync(resolve(dirname(this.configFile), name));
    } catch (error) {
      this.reporter.report(path, `cannot read ${what} "${this.shown(name)}": ${readFailureReason(error)}`);
      return undefined;
    }
  }
}

function stringAt(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === 'string' && found !== '' ? found : undefined;
}

function checkListenerTls(files: FileReader, reporter: CheckReporter, tls: unknown, path: PathSegment[]): void {
  const certName = stringAt(tls, 'cert');
  const keyName = stringAt(tls, 'key');
  const cert = certName === undefined ? undefined : files.read([...path, 'cert'], certName, 'certificate');
  const key = keyName === undefined ? undefined : files.read([...path, 'key'], keyName, 'private key');
  let usable = true;
  if (cert !== undefined) {
    try {
      new X509Certificate(cert);
    } catch {
      usable = false;
      reporter.report([...path, 'cert'], `"${files.shown(certName!)}" is not a PEM certificate`);
    }
  }
  if (key !== undefined) {
    try {
      createPrivateKey(key);
    } catch {
      usable = false;
      reporter.report([...path, 'key'], `"${files.shown(keyName!)}" is not a PEM private key (or it is encrypted)`);
    }
  }
  if (cert === undefined || key === undefined || !usable) return;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const mismatch = codeOf(error) === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
    reporter.report(
      [...path, 'key'],
      mismatch
        ? `private key "${files.shown(keyName!)}" does not match certificate "${files.shown(certName!)}"`
        : `cannot use this certificate and key: ${(error as Error).message}`,
    );
  }
}

function checkCa(files: FileReader, reporter: CheckReporter, tls: unknown, path: PathSegment[]): void {
  const caName = stringAt(tls, 'ca');
  const ca = caName === undefined ? undefined : files.read([...path, 'ca'], caName, 'CA file');
  if (ca === undefined) return;
  try {
    if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate');
    createSecureContext({ ca });
  } catch {
    reporter.report([...path, 'ca'], `"${files.shown(caName!)}" is not a PEM file of CA certificates`);
  }
}

/** The file check needs the configuration file's name, so it is made per check run. */
export function tlsFilesCheck(configFile: string): Check {
  return {
    name: 'TLS files exist, are readable and belong together',
    run(data, reporter) {
      const files = new FileReader(configFile, reporter);
      itemsOf(field(data, 'listen')).forEach((listener, index) => {
        const tls = field(listener, 'tls');
        if (tls !== undefined) checkListenerTls(files, reporter, tls, ['listen', index, 'tls']);
      });
      for (const [name, upstream] of entriesOf(field(data, 'upstreams'))) {
        checkCa(files, reporter, field(upstream, 'tls'), ['upstreams', name, 'tls']);
        itemsOf(field(upstream, 'servers')).forEach((server, index) => {
          checkCa(files, reporter, field(server, 'tls'), ['upstreams', name, 'servers', index, 'tls']);
        });
      }
    },
  };
}

/** Makes every file path of a validated config absolute, so no later reader depends on the working directory. */
export function resolveFilePaths(config: Config, configFile: string): void {
  const base = dirname(configFile);
  const absolute = (name: string) => resolve(base, name);
  for (const listener of config.listen) {
    if (listener.tls !== undefined) {
      listener.tls.cert = absolute(listener.tls.cert);
      listener.tls.key = absolute(listener.tls.key);
    }
  }
  for (const upstream of Object.values(config.upstreams)) {
    for (const tls of [upstream.tls, ...upstream.servers.map((server) => server.tls)]) {
      if (tls?.ca !== undefined) tls.ca = absolute(tls.ca);
    }
    // A managed server runs in the config file's directory unless told otherwise.
    for (const server of upstream.servers) {
      if (server.run !== undefined) server.run.cwd = absolute(server.run.cwd ?? '.');
    }
  }
  if (config.log.file !== '') config.log.file = absolute(config.log.file);
  if (config.cluster !== undefined) config.cluster.data_dir = absolute(config.cluster.data_dir);
}
