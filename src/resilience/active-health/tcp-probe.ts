import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ActiveHealthConfig, ProbeResult, Prober, ProbeTarget } from './types.js';
import { addressOf, errorDetail, timeoutDetail } from './words.js';

/**
 * A completed TCP connect (or unix socket connect) passes; the socket is closed at once without a
 * byte sent. TLS targets are probed as plain TCP: this proves something listens, not what it speaks.
 */
export class TcpProber implements Prober {
  private readonly upstream: string;
  private readonly target: ProbeTarget;
  private readonly timeoutMs: number;
  private readonly port: number;
  private readonly address: string;
  private readonly label: string;

  constructor(upstream: string, target: ProbeTarget, config: ActiveHealthConfig) {
    this.upstream = upstream;
    this.target = target;
    this.timeoutMs = config.timeout;
    const unix = target.kind === 'unix';
    this.port = unix ? 0 : config.port > 0 ? config.port : target.port;
    this.address = addressOf(target.host, this.port, target.socketPath, unix);
    this.label = `TCP connect to ${this.address}`;
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    const started = performance.now();
    const unix = this.target.kind === 'unix';
    const socket = unix
      ? net.connect({ path: this.target.socketPath })
      : net.connect({ host: this.target.host, port: this.port });
    return new Promise<ProbeResult>((resolve) => {
      let outcome: ProbeResult | undefined;
      const settle = (ok: boolean, reason: string): void => {
        if (outcome !== undefined) return;
        outcome = { ok, reason, latencyMs: Math.round((performance.now() - started) * 1000) / 1000 };
        clearTimeout(timer);
        signal.removeEventListener('abort', cancel);
        socket.destroy();
      };
      const timer = setTimeout(
        () => settle(false, `${this.label} ${timeoutDetail(this.timeoutMs, 'connect')}`),
        this.timeoutMs,
      );
      const cancel = (): void => settle(false, `${this.label} cancelled: health checks stopped`);
      signal.addEventListener('abort', cancel, { once: true });
      socket.once('connect', () => settle(true, `${this.label} succeeded`));
      socket.on('error', (error) =>
        settle(false, `${this.label} failed: ${errorDetail(error, 'connect', this.upstream, this.address, unix)}`),
      );
      // The result is given once the socket is closed, so a stopped checker leaves no handle behind.
      socket.once('close', () => {
        settle(false, `${this.label} failed: the socket closed before connecting`);
        resolve(outcome!);
      });
      if (signal.aborted) cancel();
    });
  }
}
