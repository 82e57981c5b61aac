/**
 * The broken backends both end-to-end tests put behind a gateway (real nginx, or a Gatewise
 * configuration): each scenario is a backend and the root cause doctor must name for it.
 */
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { RootCause } from '../../../src/diagnose/index.js';
import { startRawUpstream } from '../../support/raw-upstream.js';
import { childListener, childWithFreeNextPort, lonelyRefusingPort, tempDir, upstream } from './support.js';

export interface Scenario {
  name: string;
  /** What the gateway is configured with: an http(s) URL or unix:/path. */
  url: string;
  /** The check that names it, and the cause. */
  check: string;
  cause: RootCause;
  /** Text the finding's title must contain. */
  title: RegExp;
  /** What nginx answers a client for it. */
  nginxStatus: number;
}

/** Delay of the slow backend; the gateways under test give it less than that. */
export const SLOW_MS = 1500;
export const READ_TIMEOUT_MS = 500;
export const HUGE_HEAD_BYTES = 40 * 1024;

export async function brokenBackends(t: TestContext): Promise<Scenario[]> {
  const child = await childWithFreeNextPort(t);
  // A second listener elsewhere: the refused port then has no "only other listener" to blame.
  await childListener(t);
  const refused = await lonelyRefusingPort(t);
  const slow = await startRawUpstream((request) => {
    const timer = setTimeout(
      () => request.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow'),
      SLOW_MS,
    );
    request.socket.once('close', () => clearTimeout(timer));
  });
  t.after(() => slow.close());
  const plain = await upstream(t, 'ok');
  const secure = await upstream(t, 'tls');
  const huge = await upstream(t, 'huge_head', { headBytes: HUGE_HEAD_BYTES });
  const missing = join(tempDir(t), 'missing.sock');
  return [
    {
      name: 'refused',
      url: `http://127.0.0.1:${refused}`,
      check: 'tcp',
      cause: 'backend_down',
      title: new RegExp(`^nothing listens on 127\\.0\\.0\\.1:${refused}$`),
      nginxStatus: 502,
    },
    {
      name: 'wrongport',
      url: `http://127.0.0.1:${child.port + 1}`,
      check: 'tcp',
      cause: 'wrong_upstream_address',
      title: new RegExp(`but \`.*\` \\(pid ${child.pid}\\) listens on 127\\.0\\.0\\.1:${child.port}$`),
      nginxStatus: 502,
    },
    {
      name: 'slow',
      url: slow.url,
      check: 'http',
      cause: 'slow_backend',
      title: /sent no response head within/,
      nginxStatus: 504,
    },
    {
      name: 'tlsonplain',
      url: `https://127.0.0.1:${plain.port}`,
      check: 'tls',
      cause: 'tls_mismatch',
      title: /^https:\/\/ target .* speaks plain HTTP$/,
      nginxStatus: 502,
    },
    {
      name: 'plainontls',
      url: `http://127.0.0.1:${secure.port}`,
      check: 'tls',
      cause: 'tls_mismatch',
      title: /^http:\/\/ target .* speaks TLS$/,
      nginxStatus: 502,
    },
    {
      name: 'unix',
      url: `unix:${missing}`,
      check: 'unix',
      cause: 'wrong_upstream_address',
      title: /^no socket at .*missing\.sock/,
      nginxStatus: 502,
    },
    {
      name: 'bighead',
      url: huge.url,
      check: 'http',
      cause: 'buffer_or_limit_config',
      title: /^response head of .* bytes, over /,
      nginxStatus: 502,
    },
  ];
}
