/**
 * The built-in demo: two demo backends as managed servers (real child processes that Gatewise starts,
 * gates on their health check and restarts after they exit, so `/crash` can be tried again), the
 * gateway on 127.0.0.1:8080 in front of them with verbose errors, and the admin API and dashboard on
 * 127.0.0.1:9090.
 */
import { fileURLToPath } from 'node:url';
import { runUntilSignal } from '../cli/serve.js';
import { parseConfigText } from '../config/index.js';
import type { LogFormat } from '../observe/index.js';
import { Service } from '../service.js';

const BACKENDS = [
  { name: 'a', port: 5001 },
  { name: 'b', port: 5002 },
] as const;

const BACKEND_SCRIPT = fileURLToPath(new URL('./backend.js', import.meta.url));

/** Both demo backends are managed servers: Gatewise starts them, and brings them back after /crash. */
export const DEMO_CONFIG = `# The built-in demo of gatewise serve
listen:
  - address: 127.0.0.1:8080
admin:
  address: 127.0.0.1:9090
errors:
  verbose: true
log:
  format: pretty
upstreams:
  demo:
    servers:
${BACKENDS.map(
  (b) => `      - url: http://127.0.0.1:${b.port}
        run:
          command: ${JSON.stringify(process.execPath)}
          args: [${JSON.stringify(BACKEND_SCRIPT)}, --name, ${b.name}]
          stop_timeout: 3s
          restart: { backoff: { initial: 500ms, max: 5s } }`,
).join('\n')}
    balance: round_robin
    timeouts: { connect: 1s, send: 10s, read: 5s }
    retries: { attempts: 2 }
    health:
      active: { path: /health, interval: 1s, timeout: 500ms, healthy_after: 1, unhealthy_after: 2 }
routes:
  - match: { path: / }
    upstream: demo
`;

const TRY = `
Gatewise demo is running.
  gateway  http://127.0.0.1:8080   (two demo backends on :5001 and :5002)
  admin    http://127.0.0.1:9090/api/status

Things to try:
  curl -i http://127.0.0.1:8080/                      answered by backend a, then b (round robin)
  curl -i http://127.0.0.1:8080/slow?ms=8000          the read timeout (5s) gives a 504 with its cause
  curl -i http://127.0.0.1:8080/crash                 the backend dies mid-request: 502, cause crash_or_oom;
                                                      Gatewise restarts it (see /api/processes)
  curl -i -H 'Accept: application/json' http://127.0.0.1:8080/crash     the same as problem+json
  curl -i http://127.0.0.1:8080/status/502            an upstream's own 502 is passed through untouched
  curl -i http://127.0.0.1:8080/big?kb=512            a large streamed response
  curl -s http://127.0.0.1:9090/api/status            upstreams and servers as JSON
Stop with Ctrl-C.
`;

export async function runDemo(logFormat: LogFormat | undefined): Promise<number> {
  const config = parseConfigText(DEMO_CONFIG, '<demo>');
  const service = new Service({ config, logFormat });
  await service.start();
  process.stdout.write(TRY);
  return runUntilSignal(service);
}
