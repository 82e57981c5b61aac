/**
 * The alert engine: evaluates every rule on a timer and keeps, per rule and label set, the state
 * Prometheus gives an alert: pending while the condition holds for less than `for`, then firing;
 * resolved when it stops holding (after `keep_firing_for`). Transitions go to the event bus (logs,
 * dashboard) and to every notifier. The proxy path is never touched: rules read counters and state.
 */

import { createHash } from 'node:crypto';
import type { AlertRuleConfig, AlertsConfig, NotifierConfig } from '../../config/alerts.js';
import type { Runtime } from '../../proxy/index.js';
import type { LiveUpstream } from '../live.js';
import type { UpstreamTotals } from '../metrics.js';
import { type AlertMessage, Notifier, type NotifierStats, notifierName } from './notify.js';
import { conditionOf, effectiveRules, evaluateRule, type ProcessFacts, windowOf } from './rules.js';
import { expandTemplate } from './template.js';

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface AlertTransition {
  kind: 'alert';
  name: string;
  state: AlertState;
  severity: string;
  labels: Record<string, string>;
  value: number;
  summary?: string;
}

/** One alert: a rule's condition for one label set. */
export interface ActiveAlert {
  name: string;
  state: AlertState;
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  fingerprint: string;
  /** When the condition was first seen holding. */
  active_since: string;
  firing_since?: string;
  resolved_at?: string;
}

export interface AlertEngineOptions {
  /** The gateway's current runtime (a reload swaps it). */
  runtime: () => Runtime;
  /** Counters per upstream, from the metrics. */
  totals: () => Map<string, UpstreamTotals>;
  /** The request path's state in each worker process (`serve --workers`); omitted = in the runtime. */
  live?: (() => ReadonlyArray<Record<string, LiveUpstream>>) | undefined;
  /** Managed server processes, for restart_loop rules (none when omitted). */
  processes?: () => readonly ProcessFacts[];
  emit: (transition: AlertTransition) => void;
  warn: (record: Record<string, unknown>) => void;
  /** Where a person looks at an alert: the dashboard. */
  externalUrl: () => string;
  now?: () => number;
  /**
   * Several gateways evaluating the same rules: may this one send the transition of this alert?
   * Only transitions a claim grants reach the notifiers (one node per cluster sends each); a claim
   * that cannot be decided must grant, since a duplicate beats silence. Omitted = always send.
   */
  claim?: ((fingerprint: string, status: 'firing' | 'resolved') => Promise<boolean>) | undefined;
}

interface Instance {
  rule: AlertRuleConfig;
  labels: Record<string, string>;
  fingerprint: string;
  value: number;
  activeSinceMs: number;
  firingSinceMs: number;
  lastTrueMs: number;
  state: 'pending' | 'firing';
}

interface Sample {
  atMs: number;
  totals: Map<string, UpstreamTotals>;
}

/** Resolved alerts kept for the admin API and dashboard. */
const RESOLVED_KEPT = 50;

export class AlertEngine {
  private readonly now: () => number;
  private rules: AlertRuleConfig[] = [];
  private notifiers: Notifier[] = [];
  private readonly instances = new Map<string, Instance>();
  private readonly resolved: ActiveAlert[] = [];
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private everyMs = 5000;
  private longestWindowMs = 0;
  /** Claimed transitions go out in evaluation order: each batch waits for the one before. */
  private claiming: Promise<void> = Promise.resolve();

  constructor(private readonly options: AlertEngineOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Takes (new) rules and notifiers; the state of alerts whose rule keeps its name is kept. */
  configure(config: AlertsConfig): void {
    this.rules = effectiveRules(config);
    // A notifier whose settings did not change is kept, with its queue, retries and counts.
    const keyOf = (name: string, notifier: NotifierConfig, everyMs: number) =>
      JSON.stringify([name, notifier, everyMs]);
    const before = new Map(this.notifiers.map((n) => [keyOf(n.name, n.config, this.everyMs), n]));
    this.everyMs = config.evaluate_every;
    this.notifiers = config.notifiers.map((notifier, index) => {
      const key = keyOf(notifierName(notifier, index), notifier, config.evaluate_every);
      const kept = before.get(key);
      before.delete(key);
      return (
        kept ??
        new Notifier(notifier, index, {
          evaluateEveryMs: config.evaluate_every,
          externalUrl: this.options.externalUrl,
          now: this.now,
          warn: this.options.warn,
        })
      );
    });
    for (const notifier of before.values()) notifier.close();
    this.longestWindowMs = Math.max(0, ...this.rules.map(windowOf));
    for (const instance of this.instances.values()) {
      const rule = this.rules.find((r) => r.name === instance.rule.name);
      if (rule !== undefined) instance.rule = rule;
    }
    if (this.timer !== undefined) this.start();
  }

  start(): void {
    clearInterval(this.timer);
    if (this.samples.length === 0) this.sample();
    this.timer = setInterval(() => this.evaluate(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const notifier of this.notifiers) notifier.close();
  }

  /** One evaluation of every rule: new counters sampled, states moved, transitions sent. */
  evaluate(): void {
    const now = this.sample();
    const runtime = this.options.runtime();
    const totals = this.samples[this.samples.length - 1]!.totals;
    const input = {
      runtime,
      totals,
      processes: this.options.processes?.() ?? [],
      live: this.options.live?.(),
      baseline: (windowMs: number) => this.baseline(now, windowMs),
    };
    const seen = new Set<string>();
    const changed: AlertMessage[] = [];
    for (const rule of this.rules) {
      let hits: ReturnType<typeof evaluateRule>;
      try {
        hits = evaluateRule(rule, input);
      } catch (error) {
        this.options.warn({ msg: 'alert rule failed to evaluate', alert: rule.name, error: String(error) });
        continue;
      }
      for (const hit of hits) {
        const labels = { alertname: rule.name, severity: rule.severity, ...rule.labels, ...hit.labels };
        const key = fingerprint(labels);
        seen.add(key);
        let instance = this.instances.get(key);
        if (instance === undefined) {
          instance = {
            rule,
            labels,
            fingerprint: key,
            value: hit.value,
            activeSinceMs: now,
            firingSinceMs: 0,
            lastTrueMs: now,
            state: 'pending',
          };
          this.instances.set(key, instance);
          if (rule.for > 0) this.transition(instance, 'pending');
        }
        instance.value = hit.value;
        instance.lastTrueMs = now;
        if (instance.state === 'pending' && now - instance.activeSinceMs >= rule.for) {
          instance.state = 'firing';
          instance.firingSinceMs = now;
          changed.push(this.message(instance, 'firing'));
          this.transition(instance, 'firing');
        }
      }
    }
    for (const [key, instance] of this.instances) {
      if (seen.has(key)) continue;
      const ruleGone = !this.rules.includes(instance.rule);
      if (instance.state === 'firing' && !ruleGone && now - instance.lastTrueMs < instance.rule.keep_firing_for)
        continue;
      this.instances.delete(key);
      if (instance.state !== 'firing') continue;
      const message = this.message(instance, 'resolved', now);
      changed.push(message);
      this.resolved.unshift({ ...this.view(instance), state: 'resolved', resolved_at: message.endsAt! });
      this.resolved.length = Math.min(this.resolved.length, RESOLVED_KEPT);
      this.transition(instance, 'resolved');
    }
    const firing = [...this.instances.values()]
      .filter((instance) => instance.state === 'firing')
      .map((instance) => this.message(instance, 'firing'));
    for (const notifier of this.notifiers) {
      if (changed.length > 0 && this.options.claim === undefined) notifier.notify(changed);
      // Repeats keep Alertmanager from expiring a firing alert; it de-duplicates them itself, and a
      // repeat from every node means one node going away never lets the alert lapse.
      notifier.repeat(firing);
    }
    if (changed.length > 0 && this.options.claim !== undefined) this.notifyClaimed(changed, this.options.claim);
  }

  /** Sends the transitions this node wins the claim for, after those of earlier evaluations. */
  private notifyClaimed(changed: AlertMessage[], claim: NonNullable<AlertEngineOptions['claim']>): void {
    this.claiming = this.claiming.then(async () => {
      const granted = await Promise.all(
        changed.map((message) => claim(message.fingerprint, message.status).catch(() => true)),
      );
      const won = changed.filter((_message, index) => granted[index]);
      if (won.length === 0) return;
      for (const notifier of this.notifiers) notifier.notify(won);
    });
  }

  /** Pending and firing alerts (firing first), then the recently resolved. */
  alerts(): { active: ActiveAlert[]; resolved: ActiveAlert[] } {
    const active = [...this.instances.values()].map((instance) => this.view(instance));
    active.sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === 'firing' ? -1 : 1));
    return { active, resolved: [...this.resolved] };
  }

  /** The rules in force, as configured (with defaults applied), each with its condition kind. */
  ruleList(): Array<AlertRuleConfig & { condition: string }> {
    return this.rules.map((rule) => ({ ...rule, condition: conditionOf(rule) }));
  }

  notifierStats(): NotifierStats[] {
    return this.notifiers.map((notifier) => notifier.snapshot());
  }

  private sample(): number {
    const now = this.now();
    this.samples.push({ atMs: now, totals: this.options.totals() });
    // Keep what the longest window needs: the newest sample at least that old, and everything after.
    const cutoff = now - this.longestWindowMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.atMs <= cutoff) drop++;
    if (drop > 0) this.samples = this.samples.slice(drop);
    return now;
  }

  /** The counters one window ago: the newest sample at least that old, else the oldest kept. */
  private baseline(now: number, windowMs: number): Map<string, UpstreamTotals> {
    let found = this.samples[0]!;
    for (const sample of this.samples) {
      if (sample.atMs <= now - windowMs) found = sample;
      else break;
    }
    return found.totals;
  }

  private view(instance: Instance): ActiveAlert {
    return {
      name: instance.rule.name,
      state: instance.state,
      severity: instance.rule.severity,
      labels: instance.labels,
      annotations: this.annotations(instance),
      value: instance.value,
      fingerprint: instance.fingerprint,
      active_since: new Date(instance.activeSinceMs).toISOString(),
      ...(instance.state === 'firing' ? { firing_since: new Date(instance.firingSinceMs).toISOString() } : {}),
    };
  }

  private annotations(instance: Instance): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, text] of Object.entries(instance.rule.annotations))
      out[key] = expandTemplate(text, instance.labels, instance.value);
    return out;
  }

  private message(instance: Instance, status: 'firing' | 'resolved', endsMs?: number): AlertMessage {
    return {
      status,
      labels: instance.labels,
      annotations: this.annotations(instance),
      startsAt: new Date(instance.firingSinceMs).toISOString(),
      ...(endsMs !== undefined ? { endsAt: new Date(endsMs).toISOString() } : {}),
      generatorURL: `${this.options.externalUrl()}/#alerts`,
      fingerprint: instance.fingerprint,
      value: instance.value,
    };
  }

  private transition(instance: Instance, state: AlertState): void {
    this.options.emit({
      kind: 'alert',
      name: instance.rule.name,
      state,
      severity: instance.rule.severity,
      labels: instance.labels,
      value: instance.value,
      ...(instance.rule.annotations.summary !== undefined
        ? { summary: expandTemplate(instance.rule.annotations.summary, instance.labels, instance.value) }
        : {}),
    });
  }
}

/** Sixteen hex digits of the label set's hash, like Alertmanager's fingerprints. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const text = Object.keys(labels)
    .sort()
    .map((key) => `${key}\u0000${labels[key]}`)
    .join('\u0001');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
