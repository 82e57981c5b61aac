/**
 * Managed processes as Prometheus series, read from the supervisor at scrape time. Exits are counted
 * by reason from the processes' own counts, so nothing is kept here.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProcessSnapshot } from '../../supervise/index.js';

export function registerProcessMetrics(register: Registry, list: () => ProcessSnapshot[]): void {
  const registers = [register];
  new Gauge({
    name: 'gatewise_managed_up',
    help: '1 while a managed server process is running and ready, else 0.',
    labelNames: ['upstream', 'server'],
    registers,
    collect() {
      this.reset();
      for (const p of list()) this.set({ upstream: p.upstream, server: p.server }, Number(p.state === 'ready'));
    },
  });
  new Gauge({
    name: 'gatewise_managed_failed',
    help: '1 when a managed server is in a crash loop and Gatewise stopped restarting it.',
    labelNames: ['upstream', 'server'],
    registers,
    collect() {
      this.reset();
      for (const p of list()) this.set({ upstream: p.upstream, server: p.server }, Number(p.state === 'failed'));
    },
  });
  new Counter({
    name: 'gatewise_managed_restarts_total',
    help: 'Automatic restarts of a managed server process after it exited.',
    labelNames: ['upstream', 'server'],
    registers,
    collect() {
      this.reset();
      for (const p of list()) this.inc({ upstream: p.upstream, server: p.server }, p.restarts);
    },
  });
  new Counter({
    name: 'gatewise_managed_exits_total',
    help: 'Exits of managed server processes by reason (crashed, killed, oom_killed, out_of_memory, max_memory, stopped...).',
    labelNames: ['upstream', 'server', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const p of list())
        for (const [reason, n] of Object.entries(p.exits))
          this.inc({ upstream: p.upstream, server: p.server, reason }, n);
    },
  });
  new Gauge({
    name: 'gatewise_managed_resident_memory_bytes',
    help: 'Resident memory of a managed server process group, sampled every second.',
    labelNames: ['upstream', 'server'],
    registers,
    collect() {
      this.reset();
      for (const p of list())
        if (p.resident_bytes !== null) this.set({ upstream: p.upstream, server: p.server }, p.resident_bytes);
    },
  });
}
