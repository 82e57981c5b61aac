/**
 * The drill drives faults through Toxiproxy's HTTP API: the same calls reach Gatewise's own fault
 * proxy (sandbox drills) or a Toxiproxy an operator already runs (`gatewise drill --target`).
 */

export interface ToxicSpec {
  name?: string;
  type: string;
  /** `downstream` (towards the client, the default) or `upstream` (towards the server), as Toxiproxy says. */
  stream?: 'upstream' | 'downstream';
  toxicity?: number;
  attributes: Record<string, number | string>;
}

export interface ProxySpec {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
}

export class ToxiproxyClient {
  constructor(readonly baseUrl: string) {}

  async createProxy(spec: ProxySpec): Promise<void> {
    await this.call('POST', '/proxies', { enabled: true, ...spec });
  }

  async setEnabled(proxy: string, enabled: boolean): Promise<void> {
    await this.call('POST', `/proxies/${encodeURIComponent(proxy)}`, { enabled });
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<void> {
    await this.call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, {
      stream: 'downstream',
      toxicity: 1,
      ...toxic,
    });
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    await this.call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(name)}`);
  }

  /** Every proxy enabled again and every toxic removed. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  async proxies(): Promise<Record<string, ProxySpec & { toxics: unknown[] }>> {
    return (await this.call('GET', '/proxies')) as Record<string, ProxySpec & { toxics: unknown[] }>;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`fault proxy ${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return text === '' ? null : JSON.parse(text);
  }
}
