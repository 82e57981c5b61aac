/**
 * Notifiers: where alert transitions go. Each notifier has its own bounded queue and sends one batch
 * at a time, retrying with exponential backoff (5xx, 429, timeouts, connection failures; other 4xx
 * are the receiver refusing the payload, so retrying would not help). Nothing here is on the proxy
 * path: the engine hands a batch over and returns.
 *
 * Payloads:
 * - webhook: Alertmanager's webhook format (version 4), which most alert receivers already read;
 * - alertmanager: its v2 API, `POST /api/v2/alerts` with a list of alerts; firing alerts are sent
 *   again every `repeat_every` with `endsAt` ahead, as Prometheus does, so that Alertmanager neither
 *   expires them nor needs Gatewise to stay up to resolve them;
 * - slack: an incoming-webhook message (`text`, mrkdwn), which Mattermost and Rocket.Chat accept too.
 */
import type { NotifierConfig } from '../../config/alerts.js';

/** One alert as notifiers see it (Alertmanager's field names). */
export interface AlertMessage {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** When it resolved; for a firing alert, unset. */
  endsAt?: string;
  generatorURL: string;
  fingerprint: string;
  value: number;
}

export interface NotifierStats {
  name: string;
  type: NotifierConfig['type'];
  /** Batches delivered, given up after every retry, and dropped because the queue was full. */
  sent: number;
  failed: number;
  dropped: number;
  retries: number;
  queued: number;
  last_sent_at?: string;
  last_error?: string;
  last_error_at?: string;
}

export interface NotifierDeps {
  /** The engine's evaluation interval, part of how far ahead Alertmanager expiry is set. */
  evaluateEveryMs: number;
  /** The dashboard's URL (known once the admin listener is up). */
  externalUrl: () => string;
  now: () => number;
  warn: (record: Record<string, unknown>) => void;
}

/** Batches waiting per notifier; beyond this the oldest is dropped (and counted). */
const MAX_QUEUE = 64;
/** Alertmanager's "zero" time, which its webhook sends as the endsAt of a firing alert. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

type Send = (
  url: string,
  init: { headers: Record<string, string>; body: string; timeoutMs: number },
) => Promise<number>;

let undiciSend: Send | undefined;

/** undici is loaded on the first notification, so a gateway without notifiers never pays for it. */
async function send(...args: Parameters<Send>): Promise<number> {
  if (undiciSend === undefined) {
    const { request } = await import('undici');
    undiciSend = async (url, { headers, body, timeoutMs }) => {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      return response.statusCode;
    };
  }
  return undiciSend(...args);
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export class Notifier {
  readonly name: string;
  private readonly queue: AlertMessage[][] = [];
  private sending = false;
  private closed = false;
  private backoffTimer: NodeJS.Timeout | undefined;
  private lastRepeatMs = 0;
  private readonly stats: NotifierStats;

  constructor(
    readonly config: NotifierConfig,
    index: number,
    private readonly deps: NotifierDeps,
  ) {
    this.name = notifierName(config, index);
    this.stats = { name: this.name, type: config.type, sent: 0, failed: 0, dropped: 0, retries: 0, queued: 0 };
  }

  /** Transitions of one evaluation. Resolved ones are left out when send_resolved is off. */
  notify(alerts: readonly AlertMessage[]): void {
    const batch = this.config.send_resolved ? [...alerts] : alerts.filter((a) => a.status === 'firing');
    if (batch.length === 0 || this.closed) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(batch);
    void this.drain();
  }

  /** Called after each evaluation with every firing alert: Alertmanager hears them again when due. */
  repeat(firing: readonly AlertMessage[]): void {
    if (this.config.type !== 'alertmanager' || firing.length === 0) return;
    const now = this.deps.now();
    if (now - this.lastRepeatMs < this.config.repeat_every) return;
    this.lastRepeatMs = now;
    if (!this.queue.some((batch) => batch.every((a) => a.status === 'firing'))) this.notify(firing);
  }

  snapshot(): NotifierStats {
    return { ...this.stats, queued: this.queue.length };
  }

  /** Stops retrying; batches still queued are dropped. */
  close(): void {
    this.closed = true;
    clearTimeout(this.backoffTimer);
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue[0]!;
        await this.deliver(batch);
        if (this.queue[0] === batch) this.queue.shift();
      }
    } finally {
      this.sending = false;
    }
  }

  private async deliver(batch: AlertMessage[]): Promise<void> {
    const { attempts, backoff, max_backoff } = this.config.retries;
    if (this.config.type === 'alertmanager') this.lastRepeatMs = this.deps.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(batch);
        this.stats.sent++;
        this.stats.last_sent_at = new Date(this.deps.now()).toISOString();
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.stats.last_error = message;
        this.stats.last_error_at = new Date(this.deps.now()).toISOString();
        const retryable = !(error instanceof DeliveryError) || error.retryable;
        if (!retryable || attempt >= attempts || this.closed) {
          this.stats.failed++;
          this.deps.warn({
            msg: 'alert notification failed',
            notifier: this.name,
            attempts: attempt,
            error: message,
            alerts: batch.map((a) => `${a.labels.alertname}:${a.status}`),
          });
          return;
        }
        this.stats.retries++;
        // Exponential backoff with ±20% jitter, so that many gateways do not retry in step.
        const wait = Math.min(max_backoff, backoff * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
        await new Promise<void>((resolve) => {
          this.backoffTimer = setTimeout(resolve, wait);
          this.backoffTimer.unref();
        });
        if (this.closed) return;
      }
    }
  }

  private async post(batch: AlertMessage[]): Promise<void> {
    const { url, body } = this.payload(batch);
    let status: number;
    try {
      status = await send(url, {
        headers: { 'content-type': 'application/json', 'user-agent': 'gatewise', ...this.config.headers },
        body: JSON.stringify(body),
        timeoutMs: this.config.timeout,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = error instanceof Error ? error.message : String(error);
      throw new DeliveryError(code ? `${code}: ${why}` : why, true);
    }
    if (status >= 200 && status < 300) return;
    throw new DeliveryError(`receiver answered ${status}`, status >= 500 || status === 429 || status === 408);
  }

  private payload(batch: AlertMessage[]): { url: string; body: unknown } {
    switch (this.config.type) {
      case 'alertmanager':
        return { url: alertmanagerUrl(this.config.url), body: batch.map((a) => this.forAlertmanager(a)) };
      case 'slack':
        return { url: this.config.url, body: slackMessage(batch) };
      default:
        return { url: this.config.url, body: webhookMessage(this.name, batch, this.deps.externalUrl()) };
    }
  }

  /** A firing alert is set to expire a few evaluations after its next repeat, like Prometheus does. */
  private forAlertmanager(alert: AlertMessage): Record<string, unknown> {
    const aheadMs = 4 * Math.max(this.config.repeat_every, this.deps.evaluateEveryMs);
    return {
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      endsAt: alert.endsAt ?? new Date(this.deps.now() + aheadMs).toISOString(),
      generatorURL: alert.generatorURL,
    };
  }
}

/** A notifier's name in logs and metrics: as configured, or `<type>_<position>`. */
export function notifierName(config: NotifierConfig, index: number): string {
  return config.name ?? `${config.type}_${index}`;
}

/** `http://am:9093` and `http://am:9093/` both mean its v2 API; a URL with a path is used as written. */
export function alertmanagerUrl(base: string): string {
  const url = new URL(base);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/api/v2/alerts';
  return url.href;
}

/** Labels every alert of the batch shares. */
function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(first ?? {})) if (rest.every((m) => m[key] === value)) out[key] = value;
  return out;
}

export function webhookMessage(receiver: string, batch: readonly AlertMessage[], externalUrl: string): unknown {
  const commonLabels = common(batch.map((a) => a.labels));
  return {
    version: '4',
    groupKey: `{}:{alertname="${commonLabels.alertname ?? ''}"}`,
    truncatedAlerts: 0,
    status: batch.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: commonLabels.alertname ? { alertname: commonLabels.alertname } : {},
    commonLabels,
    commonAnnotations: common(batch.map((a) => a.annotations)),
    externalURL: externalUrl,
    alerts: batch.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? ZERO_TIME,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
      value: a.value,
    })),
  };
}

export function slackMessage(batch: readonly AlertMessage[]): unknown {
  const lines = batch.map((a) => {
    const mark = a.status === 'resolved' ? ':large_green_circle: *RESOLVED*' : ':red_circle: *FIRING*';
    const where = [a.labels.upstream, a.labels.server].filter(Boolean).join(' / ');
    const summary = a.annotations.summary ?? a.labels.alertname ?? '';
    const detail = a.status === 'firing' && a.annotations.description ? `\n>${a.annotations.description}` : '';
    return `${mark} ${a.labels.alertname} (${a.labels.severity ?? 'none'})${where ? ` — ${where}` : ''}: ${summary}${detail}`;
  });
  return { text: lines.join('\n') };
}
