/**
 * What the configuration alone says: what was read, targets doctor cannot probe (run-time
 * variables), servers that point back at the gateway itself, and the notes the reader made.
 */
import { isLoopbackHost } from '../../../config/index.js';
import { serverText, whereText } from '../model.js';
import type { DoctorFinding } from '../types.js';
import { type CheckContext, type DoctorCheck, finding, serverJobs } from './shared.js';
import { isLocalAddress } from './wrong-address.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '*']);
const NGINX_CONNECT_CAP_MS = 75_000;

function samePlace(listenHost: string, serverHost: string): boolean {
  if (WILDCARDS.has(listenHost)) return isLoopbackHost(serverHost) || isLocalAddress(serverHost);
  return listenHost === serverHost || (isLoopbackHost(listenHost) && isLoopbackHost(serverHost));
}

export const configCheck: DoctorCheck = {
  name: 'config',
  description: 'what the configuration alone says: targets, loops back into the gateway, unusable settings',
  async run(ctx: CheckContext): Promise<DoctorFinding[]> {
    const { model } = ctx;
    const findings: DoctorFinding[] = [...model.notes];
    const servers = model.targets.reduce((count, target) => count + target.servers.length, 0);
    const product = model.kind === 'nginx' ? 'nginx' : 'Gatewise';
    findings.push(
      finding(
        'ok',
        'config',
        `read ${product} configuration ${model.file}: ${model.targets.length} upstream target${model.targets.length === 1 ? '' : 's'}, ${servers} server${servers === 1 ? '' : 's'}`,
        { evidence: model.files.length > 1 ? [`files: ${model.files.join(', ')}`] : [] },
      ),
    );
    if (model.targets.length === 0)
      findings.push(
        finding('info', 'config', `no proxy_pass / fastcgi_pass / uwsgi_pass / grpc_pass in ${model.file}`, {
          evidence: [`files read: ${model.files.join(', ')}`],
        }),
      );
    for (const target of model.targets) {
      // ngx_http_proxy_module: "this timeout cannot usually exceed 75 seconds" (the kernel's SYN retries end first).
      if (model.kind === 'nginx' && target.connectTimeoutMs > NGINX_CONNECT_CAP_MS)
        findings.push(
          finding('info', 'config', `${target.settings.connect} above 75s has no effect`, {
            target: target.upstream,
            evidence: [
              `${whereText(target.where)}: ${target.directive}`,
              `${target.settings.connect} is ${target.connectTimeoutMs / 1000}s`,
            ],
            fix: `the kernel gives up connecting after about 75 s (net.ipv4.tcp_syn_retries); set ${target.settings.connect} to what you want to wait, a few seconds at most`,
          }),
        );
      if (target.dynamic !== undefined)
        ctx.skip(
          'config',
          `${target.directive} (${whereText(target.where)})`,
          `${target.dynamic}; its servers are known only per request`,
        );
    }
    for (const job of serverJobs(model)) {
      const { server, target } = job;
      if (server.kind !== 'tcp') continue;
      const own = model.listen.find((listen) => listen.port === server.port && samePlace(listen.host, server.host));
      if (own === undefined) continue;
      const loop = model.kind === 'gatewise';
      findings.push(
        finding(
          loop ? 'critical' : 'warning',
          'config',
          `${serverText(server)} is the gateway's own listen address ${own.text}`,
          {
            target: job.label,
            evidence: [`${whereText(server.where)}: ${server.text}`, `${whereText(own.where)}: listen ${own.text}`],
            cause: 'wrong_upstream_address',
            fix: loop
              ? `point upstream ${target.upstream} at the backend's address; requests sent to the gateway itself are refused with 508 (loop detected)`
              : `point ${target.directive} at the backend's address, unless it deliberately reaches another server block of this nginx`,
          },
        ),
      );
    }
    return findings;
  },
};
