/** Doctor's neutral model from a Gatewise configuration (loaded and validated by the config module). */
import { readFile } from 'node:fs/promises';
import { type Config, loadConfigFile, parseHostPort, parseServerUrl, type UpstreamConfig } from '../../config/index.js';
import type { DoctorModel, DoctorTarget, ListenAddress, ServerAddress, TlsSettings, Where } from './model.js';

export async function loadGatewiseModel(file: string, healthPath?: string): Promise<DoctorModel> {
  const config = await loadConfigFile(file);
  const text = await readFile(file, 'utf8').catch(() => '');
  return gatewiseModel(config, file, text, healthPath);
}

/** The line of the first occurrence of `needle` at or after line `from`, for evidence; 0 when not found. */
function lineOf(lines: readonly string[], needle: string, from = 0): number {
  for (let i = from; i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  return 0;
}

export function gatewiseModel(config: Config, file: string, text: string, healthPath?: string): DoctorModel {
  const lines = text.split('\n');
  const targets: DoctorTarget[] = [];
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    const upstreamLine = lineOf(lines, `${name}:`);
    const where: Where = { file, line: upstreamLine };
    const routes = config.routes.filter((route) => route.upstream === name);
    const active = upstream.health.active;
    const keepalive = upstream.keepalive;
    targets.push({
      upstream: name,
      protocol: 'http',
      servers: upstream.servers.map((_, index) => serverOf(upstream, index, file, lines, upstreamLine)),
      usedBy: routes.map((route) => `route ${route.match.host ?? '*'}${route.match.path}`),
      directive: `upstreams.${name}`,
      where,
      connectTimeoutMs: upstream.timeouts.connect,
      readTimeoutMs: upstream.timeouts.read,
      sendTimeoutMs: upstream.timeouts.send,
      maxResponseHeaderBytes: upstream.max_response_header_bytes,
      keepalive: keepalive.max_idle > 0,
      keepaliveIdleMs: keepalive.idle_timeout,
      // The pool closes an idle connection a second before the server's advertised Keep-Alive timeout.
      honoursKeepAliveHint: true,
      healthPath: healthPath ?? (active?.type === 'http' ? active.path : '/'),
      // Gatewise resolves host names again every dns.refresh (or the answer's TTL).
      resolvedAtStartup: false,
      resolvers: [],
      settings: {
        connect: `upstreams.${name}.timeouts.connect`,
        read: `upstreams.${name}.timeouts.read`,
        send: `upstreams.${name}.timeouts.send`,
        headerLimit: `upstreams.${name}.max_response_header_bytes`,
        keepaliveIdle: `upstreams.${name}.keepalive.idle_timeout`,
        resolver: '/etc/resolv.conf',
      },
    });
  }
  const listen: ListenAddress[] = config.listen.map((entry) => listenOf(entry.address, file, lines));
  listen.push({ ...listenOf(config.admin.address, file, lines), admin: true });
  const writePaths = config.log.file === '' ? [] : [config.log.file];
  return {
    kind: 'gatewise',
    file,
    files: [file],
    targets,
    listen,
    writePaths,
    errorLogs: writePaths,
    user: undefined,
    notes: [],
  };
}

function listenOf(address: string, file: string, lines: readonly string[]): ListenAddress {
  const { host, port } = parseHostPort(address);
  return { text: address, host, port, where: { file, line: lineOf(lines, address) } };
}

function serverOf(
  upstream: UpstreamConfig,
  index: number,
  file: string,
  lines: readonly string[],
  upstreamLine: number,
): ServerAddress {
  const server = upstream.servers[index]!;
  const parsed = parseServerUrl(server.url);
  const base = {
    text: server.url,
    where: { file, line: lineOf(lines, server.url, Math.max(0, upstreamLine - 1)) },
    backup: server.backup,
    down: false,
  };
  if (parsed.kind === 'unix') return { kind: 'unix', path: parsed.path, ...base };
  const tcp = { kind: 'tcp' as const, host: parsed.host, port: parsed.port, ...base };
  if (parsed.kind === 'http') return tcp;
  const tls = { ...upstream.tls, ...server.tls };
  const settings: TlsSettings = {
    sni: tls.servername ?? (isIpLiteral(parsed.host) ? undefined : parsed.host),
    verify: tls.insecure !== true,
    verifyName: tls.servername ?? parsed.host,
    caFile: tls.ca,
    sniSetting: `upstreams.*.tls.servername`,
    verifySetting: `upstreams.*.tls.insecure`,
  };
  return { ...tcp, tls: settings };
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
