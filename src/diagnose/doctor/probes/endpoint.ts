/** One place a probe connects to: a resolved IP address and port, or a unix socket. */
export type Endpoint =
  | {
      kind: 'tcp';
      /** The IP address connected to. */
      address: string;
      port: number;
      /** The name the address came from (the address itself for IP literals). */
      host: string;
    }
  | { kind: 'unix'; path: string };

export function endpointKey(endpoint: Endpoint): string {
  return endpoint.kind === 'unix' ? `unix:${endpoint.path}` : `${endpoint.address}|${endpoint.port}`;
}

/** "127.0.0.1:5000", "[::1]:5000", "api.internal (10.0.0.5):443", "unix:/run/app.sock". */
export function endpointText(endpoint: Endpoint): string {
  if (endpoint.kind === 'unix') return `unix:${endpoint.path}`;
  const address = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  return endpoint.host === endpoint.address
    ? `${address}:${endpoint.port}`
    : `${endpoint.host} (${address}):${endpoint.port}`;
}

/** Milliseconds with one decimal below 10 ms, whole above: "0.4 ms", "1503 ms". */
export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}
