/** The broken backends the explain tests put a real gateway (nginx or Gatewise) in front of. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type StartedUpstream, startUpstream } from '../../../src/drill/upstreams.js';
import { freePort } from '../../support/nginx.js';

export interface BrokenUpstreams {
  /** A temporary directory, removed with the test. */
  dir: string;
  refused: StartedUpstream;
  ok: StartedUpstream;
  hang: StartedUpstream;
  tls: StartedUpstream;
  huge: StartedUpstream;
  /** A free port where nothing listens (the backend is on `ok.port`). */
  wrongPort: number;
}

/** Starts every broken backend (closed with the test); `headBytes` is the oversized response head. */
export async function startBrokenUpstreams(t: TestContext, name: string, headBytes: number): Promise<BrokenUpstreams> {
  const dir = mkdtempSync(join(tmpdir(), `gatewise-explain-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstreams: StartedUpstream[] = [];
  t.after(() => Promise.all(upstreams.map((u) => u.close())));
  const started = async (u: Promise<StartedUpstream>): Promise<StartedUpstream> => {
    const upstream = await u;
    upstreams.push(upstream);
    return upstream;
  };
  return {
    dir,
    refused: await started(startUpstream('refuse')),
    ok: await started(startUpstream('ok')),
    hang: await started(startUpstream('hang')),
    tls: await started(startUpstream('tls')),
    huge: await started(startUpstream('huge_head', { headBytes })),
    wrongPort: await freePort(),
  };
}
