/**
 * Starts a real gateway in-process on 127.0.0.1 port 0 from YAML text, with an observer that keeps
 * every access and failure record so tests can assert on what operators would see.
 */
import { parseConfigText } from '../../src/config/index.js';
import type { Failure } from '../../src/diagnose/index.js';
import { type Exchange, Gateway } from '../../src/proxy/index.js';

export interface AccessRecord {
  requestId: string;
  method: string;
  path: string;
  status: number;
  attempts: number;
  server: string | undefined;
  failure: Failure | null;
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly port: number;
  readonly url: string;
  readonly access: AccessRecord[];
  readonly failures: Failure[];
  /** Resolves with the access record of the next request to finish (or one already kept). */
  nextAccess(predicate?: (r: AccessRecord) => boolean): Promise<AccessRecord>;
  close(): Promise<void>;
}

/** `yaml` may omit `listen` (port 0 is used) and `admin`. */
export async function startGateway(yaml: string): Promise<TestGateway> {
  const text = /^listen:/m.test(yaml)
    ? yaml
    : `listen: [{ address: 127.0.0.1:0 }]\nadmin: { address: 127.0.0.1:0 }\n${yaml}`;
  const config = parseConfigText(text, 'test.yaml');
  const access: AccessRecord[] = [];
  const failures: Failure[] = [];
  const waiters: Array<{ predicate: (r: AccessRecord) => boolean; resolve: (r: AccessRecord) => void }> = [];
  const gateway = new Gateway(config, {
    observer: {
      upstreamFailed: (_ex: Exchange, failure: Failure) => {
        failures.push(failure);
      },
      exchangeDone: (ex: Exchange) => {
        const record: AccessRecord = {
          requestId: ex.requestId,
          method: ex.method,
          path: ex.path,
          status: ex.status,
          attempts: ex.attempt,
          server: ex.server?.address,
          failure: ex.failure,
        };
        access.push(record);
        for (let i = 0; i < waiters.length; i++) {
          const w = waiters[i]!;
          if (w.predicate(record)) {
            waiters.splice(i, 1);
            w.resolve(record);
            break;
          }
        }
      },
    },
  });
  await gateway.start();
  const address = gateway.addresses()[0]!;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return {
    gateway,
    port,
    url: `http://127.0.0.1:${port}`,
    access,
    failures,
    nextAccess(predicate = () => true) {
      const found = access.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => gateway.stop(0),
  };
}

/** One upstream named `api` in front of the given server URLs, routed at `/`. */
export function simpleConfig(urls: readonly string[], extra = ''): string {
  return `upstreams:
  api:
    servers:
${urls.map((u) => `      - url: ${u}`).join('\n')}
${extra}
routes:
  - match: { path: / }
    upstream: api
`;
}
