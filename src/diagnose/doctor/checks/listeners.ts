/**
 * Who listens where: the gateway's own listen addresses against /proc, and what doctor could not
 * map (sockets of other users' processes without root).
 */
import type { DoctorFinding } from '../types.js';
import { type CheckContext, type DoctorCheck, finding } from './shared.js';
import { listenerText, ownerText } from './wrong-address.js';

const WILDCARDS = new Set(['0.0.0.0', '::']);

export const listenersCheck: DoctorCheck = {
  name: 'listeners',
  description:
    "listening sockets and their processes (/proc/net/tcp{,6}, /proc/net/unix, /proc/PID/fd); the gateway's own ports",
  async run(ctx: CheckContext): Promise<DoctorFinding[]> {
    const table = ctx.sockets();
    for (const missing of table.missing) ctx.skip('listeners', missing, 'not readable on this system');
    if (table.missing.includes('/proc/net/tcp')) return [];
    const unmapped = [...table.tcp, ...table.unix].filter((socket) => socket.pid === undefined).length;
    if (unmapped > 0 && table.unreadablePids > 0)
      ctx.skip(
        'listeners',
        `the processes behind ${unmapped} listening socket${unmapped === 1 ? '' : 's'}`,
        `/proc/PID/fd of ${table.unreadablePids} processes of other users is not readable; run doctor as root (or as their user) to name them`,
      );
    const findings: DoctorFinding[] = [];
    const product = ctx.model.kind === 'nginx' ? 'nginx' : 'Gatewise';
    // Port 0 is chosen when the gateway starts: nothing to look for.
    for (const listen of ctx.model.listen.filter((entry) => entry.port !== 0)) {
      const role = listen.admin ? 'admin address' : 'listen address';
      const owners = table.tcp.filter(
        (listener) =>
          listener.port === listen.port &&
          (listener.address === listen.host || WILDCARDS.has(listener.address) || WILDCARDS.has(listen.host)),
      );
      const owner = owners[0];
      const target = `listen ${listen.text}`;
      const evidence = [
        `${listen.where.file}${listen.where.line > 0 ? `:${listen.where.line}` : ''}: listen ${listen.text}`,
      ];
      if (owner === undefined) {
        findings.push(
          finding('info', 'listeners', `nothing listens on ${product}'s ${role} ${listen.text}`, {
            target,
            evidence,
            fix: `${product} is not running with this configuration, or not yet; start or reload it`,
          }),
        );
        continue;
      }
      const title = `${ownerText(owner)} listens on ${listenerText(owner)} (${product}'s ${role} ${listen.text})`;
      // Another program on nginx's port: nginx cannot bind it, and clients reach that program instead.
      const intruder = ctx.model.kind === 'nginx' && owner.command !== undefined && !/\bnginx\b/.test(owner.command);
      findings.push(
        intruder
          ? finding('warning', 'listeners', title, {
              target,
              evidence,
              fix: `stop ${ownerText(owner)} or move it to another port: nginx cannot bind ${listen.text} while it is taken (bind() ... Address already in use)`,
            })
          : finding('ok', 'listeners', title, { target }),
      );
    }
    return findings;
  },
};
