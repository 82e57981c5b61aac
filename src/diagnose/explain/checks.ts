/**
 * What to look at for each root cause, with the command that shows it, filled in with the upstream the
 * line names. A table keyed by cause; the settings to change come from a table keyed by source, so a
 * check about a read timeout names proxy_read_timeout for nginx and timeouts.read for Gatewise.
 */
import type { RootCause } from '../taxonomy.js';
import { addressOf, type Target } from './target.js';
import type { Check, Source } from './types.js';

/** The settings of each proxy that the checks point at; '' when the proxy has none worth naming. */
interface Settings {
  readTimeout: string;
  connectTimeout: string;
  headerLimit: string;
  upstreamIdle: string;
  tlsName: string;
  /** Shows which upstream address the configuration names. */
  configCommand: string;
  /** The proxy's process name, for /proc and ps; '' for a managed load balancer. */
  process: string;
}

const GENERIC: Settings = {
  readTimeout: "the proxy's upstream read timeout",
  connectTimeout: "the proxy's upstream connect timeout",
  headerLimit: "the proxy's response header size limit",
  upstreamIdle: "the proxy's idle timeout for upstream keep-alive connections",
  tlsName: 'the TLS server name (SNI) the proxy sends',
  configCommand: 'grep -rn UPSTREAM /etc/',
  process: 'PROCESS',
};

const SETTINGS: Readonly<Record<Source, Settings>> = {
  nginx_error: {
    readTimeout: 'proxy_read_timeout (default 60s)',
    connectTimeout: 'proxy_connect_timeout (default 60s)',
    headerLimit:
      'proxy_buffer_size (the whole response head must fit; e.g. proxy_buffer_size 16k; proxy_buffers 8 16k;)',
    upstreamIdle: 'keepalive_timeout inside the upstream {} block (default 60s)',
    tlsName: 'proxy_ssl_server_name on; and proxy_ssl_name',
    configCommand: "nginx -T 2>/dev/null | grep -nE 'proxy_pass|server |upstream '",
    process: 'nginx',
  },
  nginx_access: {
    readTimeout: 'proxy_read_timeout (default 60s)',
    connectTimeout: 'proxy_connect_timeout (default 60s)',
    headerLimit: 'proxy_buffer_size',
    upstreamIdle: 'keepalive_timeout inside the upstream {} block (default 60s)',
    tlsName: 'proxy_ssl_server_name on; and proxy_ssl_name',
    configCommand: "nginx -T 2>/dev/null | grep -nE 'proxy_pass|server |upstream '",
    process: 'nginx',
  },
  ingress_nginx: {
    readTimeout: 'the nginx.ingress.kubernetes.io/proxy-read-timeout annotation (default 60)',
    connectTimeout: 'the nginx.ingress.kubernetes.io/proxy-connect-timeout annotation',
    headerLimit: 'the nginx.ingress.kubernetes.io/proxy-buffer-size annotation',
    upstreamIdle: 'upstream-keepalive-timeout in the controller ConfigMap',
    tlsName: 'the nginx.ingress.kubernetes.io/proxy-ssl-server-name annotation',
    configCommand: 'kubectl get ingress -A -o wide; kubectl get endpointslices -n NAMESPACE',
    process: 'nginx',
  },
  envoy: {
    readTimeout: 'the route timeout (default 15s) or per_try_timeout',
    connectTimeout: "the cluster's connect_timeout",
    headerLimit: "the cluster's response header limits",
    upstreamIdle: "the cluster's common_http_protocol_options.idle_timeout",
    tlsName: "the cluster's UpstreamTlsContext sni",
    configCommand: "curl -s localhost:9901/clusters | grep -E 'hostname|health_flags|cx_connect_fail'",
    process: 'envoy',
  },
  haproxy: {
    readTimeout: 'timeout server',
    connectTimeout: 'timeout connect',
    headerLimit: 'tune.bufsize (the response head must fit in one buffer)',
    upstreamIdle: 'http-reuse and the idle server connections',
    tlsName: 'the sni keyword on the server line',
    configCommand: "grep -nE '^\\s*(backend|server) ' /etc/haproxy/haproxy.cfg",
    process: 'haproxy',
  },
  traefik: {
    readTimeout: 'serversTransport forwardingTimeouts.responseHeaderTimeout',
    connectTimeout: 'serversTransport forwardingTimeouts.dialTimeout',
    headerLimit: "the response head size Go's transport accepts",
    upstreamIdle: 'serversTransport forwardingTimeouts.idleConnTimeout',
    tlsName: 'serversTransport serverName',
    configCommand: 'curl -s localhost:8080/api/http/services',
    process: 'traefik',
  },
  caddy: {
    readTimeout: 'transport http { response_header_timeout }',
    connectTimeout: 'transport http { dial_timeout }',
    headerLimit: 'transport http { max_response_header }',
    upstreamIdle: 'transport http { keepalive }',
    tlsName: 'transport http { tls_server_name }',
    configCommand: "curl -s localhost:2019/config/ | grep -o 'dial[^,]*'",
    process: 'caddy',
  },
  aws_alb: {
    readTimeout: "the load balancer's idle timeout (idle_timeout.timeout_seconds, default 60)",
    connectTimeout: 'the fixed 10 s connect timeout to targets',
    headerLimit: "the target's response head size",
    upstreamIdle: "the load balancer's idle timeout (default 60 s)",
    tlsName: "the target group's protocol",
    configCommand: 'aws elbv2 describe-target-health --target-group-arn TARGET_GROUP_ARN',
    process: '',
  },
  node: GENERIC,
  gatewise: {
    readTimeout: 'timeouts.read of the upstream',
    connectTimeout: 'timeouts.connect of the upstream',
    headerLimit: 'max_response_header_bytes of the upstream (default 32k)',
    upstreamIdle: 'keepalive.idle_timeout of the upstream',
    tlsName: 'the host name in the server url (sent as SNI)',
    configCommand: 'gatewise check --config CONFIG',
    process: 'node',
  },
  unknown: GENERIC,
};

type CheckMaker = (target: Target, settings: Settings) => Check[];

function hostOr(target: Target): string {
  return target.host === undefined ? 'HOST' : target.host.includes(':') ? `[${target.host}]` : target.host;
}

function portOr(target: Target): string {
  return target.port ?? 'PORT';
}

function url(target: Target, scheme = target.scheme ?? 'http'): string {
  if (target.unixPath !== undefined) return `--unix-socket ${target.unixPath} http://localhost/`;
  return `${scheme}://${hostOr(target)}:${portOr(target)}/`;
}

function listening(target: Target): Check {
  if (target.unixPath !== undefined) {
    return {
      what: `Does the socket file exist, and does a process listen on it?`,
      command: `ls -l ${target.unixPath} && ss -lxp | grep -F ${target.unixPath}`,
    };
  }
  return {
    what: `Does anything listen on port ${portOr(target)} of the backend host (run it there)?`,
    command: `ss -ltnp 'sport = :${portOr(target)}'`,
  };
}

function reach(target: Target): Check {
  return { what: 'Ask the backend directly, from the proxy host', command: `curl -sv ${url(target)} -o /dev/null` };
}

const CHECKS: Readonly<Record<RootCause, CheckMaker>> = {
  backend_down: (target) => [
    listening(target),
    reach(target),
    {
      what: 'Did the backend service stop or fail to start?',
      command: 'systemctl status SERVICE; journalctl -u SERVICE --since "15 min ago"',
    },
  ],
  wrong_upstream_address: (target, settings) => [
    {
      what: `Where does the backend really listen? Compare with ${addressOf(target) || 'the configured address'}`,
      command: target.unixPath !== undefined ? 'ss -lxp' : 'ss -ltnp',
    },
    {
      what: 'Which address does the configuration name (a typo, an old port, localhost resolving to ::1)?',
      command: settings.configCommand,
    },
    ...(target.host === 'localhost' || target.host === '::1'
      ? [{ what: 'What does localhost resolve to?', command: 'getent ahosts localhost' }]
      : []),
  ],
  firewall_or_network: (target) => [
    {
      what: `Can the proxy host open a TCP connection to ${hostOr(target)}:${portOr(target)}?`,
      command: `nc -vz -w 3 ${hostOr(target)} ${portOr(target)}`,
    },
    { what: 'Is there a route to the backend?', command: `ip route get ${hostOr(target)}` },
    {
      what: 'Do firewall rules or security groups drop the traffic (on both hosts)?',
      command: 'nft list ruleset || iptables -S',
    },
  ],
  slow_backend: (target, settings) => [
    {
      what: 'How long does the backend take to send its first byte?',
      command: `curl -s -o /dev/null -w 'connect %{time_connect}s first byte %{time_starttransfer}s\\n' ${url(target)}`,
    },
    { what: "Look for slow queries, blocked workers or GC pauses in the backend's own logs" },
    { what: `If the slowness is expected, raise ${settings.readTimeout}` },
  ],
  tls_mismatch: (target) => [
    {
      what: `Does ${hostOr(target)}:${portOr(target)} speak TLS? A certificate means https://, "wrong version number" means plain HTTP`,
      command: `openssl s_client -connect ${hostOr(target)}:${portOr(target)} -servername ${hostOr(target)} </dev/null`,
    },
    {
      what: 'Try both schemes; the one that answers is the one to configure',
      command: `curl -sv ${url(target, 'http')} -o /dev/null; curl -skv ${url(target, 'https')} -o /dev/null`,
    },
  ],
  tls_config: (target, settings) => [
    {
      what: 'Which certificate does the backend present (chain, expiry, names)?',
      command: `openssl s_client -connect ${hostOr(target)}:${portOr(target)} -servername ${hostOr(target)} -showcerts </dev/null | openssl x509 -noout -subject -issuer -dates -ext subjectAltName`,
    },
    { what: `Check the trusted CA, the allowed TLS versions on both sides, and ${settings.tlsName}` },
  ],
  crash_or_oom: () => [
    {
      what: 'Did the kernel kill the backend for memory?',
      command: "dmesg -T | grep -iE 'out of memory|oom-kill|killed process'",
    },
    {
      what: 'Did the backend crash or restart at that time?',
      command: 'journalctl -u SERVICE --since "15 min ago" | grep -iE "exit|signal|restart"',
    },
    {
      what: 'In a container: was it OOM-killed? (cgroup v2: memory.events oom_kill; v1: memory.failcnt)',
      command:
        "docker inspect -f '{{.State.OOMKilled}} {{.RestartCount}}' CONTAINER || kubectl describe pod POD | grep -A3 'Last State'",
    },
  ],
  dns: (target) => [
    { what: `Does ${hostOr(target)} resolve on the proxy host?`, command: `getent hosts ${hostOr(target)}` },
    { what: 'Does the resolver answer?', command: `cat /etc/resolv.conf; dig +short ${hostOr(target)}` },
  ],
  keepalive_mismatch: (target, settings) => [
    {
      what: `The backend must keep idle connections open longer than ${settings.upstreamIdle}; Node's default server.keepAliveTimeout is 5 s`,
    },
    {
      what: 'Watch connections between proxy and backend close while idle',
      command: `ss -tno state established '( dport = :${portOr(target)} )'`,
    },
  ],
  buffer_or_limit_config: (target, settings) => [
    {
      what: 'How large is the response head the backend sends?',
      command: `curl -s -D - -o /dev/null ${url(target)} | wc -c`,
    },
    { what: `Raise ${settings.headerLimit}, or trim the headers (often large or many Set-Cookie)` },
  ],
  permission_or_selinux: (target, settings) => [
    ...(target.unixPath !== undefined
      ? [
          {
            what: "Socket owner and mode against the proxy's user",
            command: `ls -l ${target.unixPath}; ps -o user= -p $(pgrep -o ${settings.process || 'PROCESS'})`,
          },
        ]
      : []),
    { what: 'Did SELinux deny the connection?', command: 'ausearch -m avc -ts recent' },
    {
      what: 'On SELinux hosts, may the web server connect to the network?',
      command: 'getsebool httpd_can_network_connect  # fix: setsebool -P httpd_can_network_connect 1',
    },
  ],
  overload_or_exhaustion: (_target, settings) => [
    ...(settings.process === ''
      ? []
      : [
          {
            what: 'File descriptor limit of the proxy process',
            command: `grep 'open files' /proc/$(pgrep -o ${settings.process})/limits`,
          },
        ]),
    { what: 'Connection counts and TIME-WAIT sockets', command: 'ss -s' },
    { what: 'Local port range for outgoing connections', command: 'sysctl net.ipv4.ip_local_port_range' },
    {
      what: "Is the backend's listen backlog full (Recv-Q near Send-Q)?",
      command: 'ss -ltn',
    },
  ],
  protocol_error: (target) => [
    {
      what: 'Look at the raw bytes the backend answers with',
      command:
        target.unixPath !== undefined
          ? `printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n' | nc -U ${target.unixPath} | head -c 300 | xxd | head`
          : `printf 'GET / HTTP/1.1\\r\\nHost: ${hostOr(target)}\\r\\n\\r\\n' | nc -w 3 ${hostOr(target)} ${portOr(target)} | head -c 300 | xxd | head`,
    },
    { what: 'Make sure the port serves HTTP/1.1 (not gRPC-only, FastCGI, a database or TLS)' },
  ],
  other: () => [{ what: 'Read the lines around this one in the same log for the request it belongs to' }],
};

/** Checks for the first causes, without repeating one. */
export function checksFor(causes: readonly RootCause[], target: Target, source: Source, limit = 2): Check[] {
  const settings = SETTINGS[source];
  const seen = new Set<string>();
  const checks: Check[] = [];
  for (const cause of causes.slice(0, limit)) {
    for (const check of CHECKS[cause](target, settings)) {
      const key = check.command ?? check.what;
      if (seen.has(key)) continue;
      seen.add(key);
      checks.push(check);
    }
  }
  return checks;
}

/** The setting names of a source, for the summaries and checks the recognisers write. */
export function settingsOf(source: Source): Settings {
  return SETTINGS[source];
}
