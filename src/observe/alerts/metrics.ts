/**
 * Alert state and notification outcomes as Prometheus series, read from the engine at scrape time.
 * Label values are rule and notifier names from the configuration: bounded.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertEngine } from './engine.js';

export function registerAlertMetrics(register: Registry, engine: () => AlertEngine | null): void {
  const registers = [register];
  new Gauge({
    name: 'gatewise_alerts',
    help: 'Alerts by rule, severity and state (pending or firing), as Prometheus exposes its own ALERTS.',
    labelNames: ['alertname', 'severity', 'state'],
    registers,
    collect() {
      this.reset();
      const alerts = engine()?.alerts().active ?? [];
      for (const alert of alerts) this.inc({ alertname: alert.name, severity: alert.severity, state: alert.state });
    },
  });
  const outcomes = ['sent', 'failed', 'dropped', 'retries'] as const;
  new Counter({
    name: 'gatewise_alert_notifications_total',
    help: 'Notification batches by notifier and outcome: sent, failed after every retry, dropped (queue full), retries.',
    labelNames: ['notifier', 'result'],
    registers,
    collect() {
      this.reset();
      for (const stats of engine()?.notifierStats() ?? []) {
        for (const result of outcomes) this.inc({ notifier: stats.name, result }, stats[result]);
      }
    },
  });
}
