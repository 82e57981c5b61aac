// The container health check: one GET to the admin API with Node itself (node:20-slim has no curl).
//
//   node deploy/healthcheck.js [URL]
//
// URL defaults to $GATEWISE_HEALTH_URL, then http://127.0.0.1:9090/healthz (liveness: the process
// answers). Use /readyz for readiness (200 only while serving a config, not draining or degraded).
// $GATEWISE_ADMIN_TOKEN, when set, is sent as a bearer token; /healthz and /readyz do not need one.
// Exit 0 on a 2xx answer, 1 otherwise (Docker's HEALTHCHECK contract), within the timeout.

const TIMEOUT_MS = Number(process.env.GATEWISE_HEALTH_TIMEOUT_MS ?? 2000);
const url = process.argv[2] ?? process.env.GATEWISE_HEALTH_URL ?? 'http://127.0.0.1:9090/healthz';
const token = process.env.GATEWISE_ADMIN_TOKEN;

let code = 1;
try {
  const response = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) process.stderr.write(`healthcheck: ${url} answered ${response.status}\n`);
  code = response.ok ? 0 : 1;
} catch (error) {
  const reason = error instanceof Error ? (error.cause?.code ?? error.cause?.message ?? error.message) : String(error);
  process.stderr.write(`healthcheck: ${url} did not answer (${reason})\n`);
}
// Exit at once: a pooled keep-alive socket must not hold the check open.
process.exit(code);
