/** nginx configurations reduced to doctor's model: targets, inherited settings and nginx's defaults. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { type DoctorTarget, loadNginxModel } from '../../../src/diagnose/doctor/index.js';
import { nginxConfig } from './support.js';

function target(targets: readonly DoctorTarget[], directive: string): DoctorTarget {
  const found = targets.find((entry) => entry.directive === directive);
  assert.ok(found, `no target ${directive} in ${targets.map((entry) => entry.directive).join(', ')}`);
  return found;
}

test('upstream blocks, direct addresses, unix sockets and every pass directive become targets', (t) => {
  const file = nginxConfig(
    t,
    `  upstream api {
    server 127.0.0.1:5001;
    server [::1]:5002 backup;
    server localhost down;
  }
  server {
    listen 127.0.0.1:8080;
    server_name example.test;
    location /api/ { proxy_pass http://api/; }
    location /direct { proxy_pass http://127.0.0.1:6000/x; }
    location /sock { proxy_pass http://unix:/run/app.sock:/; }
    location ~ \\.php$ { fastcgi_pass unix:/run/php/php-fpm.sock; }
    location /py { uwsgi_pass 127.0.0.1:3031; }
    location /grpc { grpc_pass grpcs://127.0.0.1:50051; }
  }`,
  );
  const model = loadNginxModel(file);
  assert.equal(model.kind, 'nginx');
  assert.deepEqual(
    model.listen.map((listen) => `${listen.host}:${listen.port}`),
    ['127.0.0.1:8080'],
  );
  const api = target(model.targets, 'proxy_pass http://api/');
  assert.equal(api.upstream, 'api');
  assert.deepEqual(
    api.servers.map((server) => [
      server.text,
      server.kind === 'tcp' ? `${server.host}:${server.port}` : server.path,
      server.backup,
      server.down,
    ]),
    [
      ['127.0.0.1:5001', '127.0.0.1:5001', false, false],
      ['[::1]:5002', '::1:5002', true, false],
      ['localhost', 'localhost:80', false, true],
    ],
  );
  assert.equal(api.servers[0]!.where.line, 5);
  assert.match(api.usedBy[0]!, /^server example\.test location \/api\/ \(.*nginx\.conf:12\)$/);
  assert.equal(api.resolvedAtStartup, true, 'localhost in an upstream is resolved once, at start-up');

  const direct = target(model.targets, 'proxy_pass http://127.0.0.1:6000/x');
  assert.equal(direct.upstream, '127.0.0.1:6000');
  assert.equal(direct.resolvedAtStartup, false);
  assert.deepEqual(
    target(model.targets, 'proxy_pass http://unix:/run/app.sock:/').servers.map((s) => s.text),
    ['unix:/run/app.sock'],
  );
  const php = target(model.targets, 'fastcgi_pass unix:/run/php/php-fpm.sock');
  assert.equal(php.protocol, 'fastcgi');
  assert.equal(php.settings.read, 'fastcgi_read_timeout');
  assert.equal(target(model.targets, 'uwsgi_pass 127.0.0.1:3031').protocol, 'uwsgi');
  const grpc = target(model.targets, 'grpc_pass grpcs://127.0.0.1:50051');
  assert.equal(grpc.protocol, 'grpc');
  assert.ok(grpc.servers[0]!.kind === 'tcp' && grpc.servers[0]!.tls !== undefined, 'grpcs speaks TLS');
});

test("defaults are nginx's; a setting in a block replaces the inherited one; the innermost wins", (t) => {
  const file = nginxConfig(
    t,
    `  proxy_read_timeout 30s;
  proxy_buffer_size 16k;
  upstream a { server 127.0.0.1:1; }
  server {
    proxy_connect_timeout 2s;
    location /one { proxy_pass http://a; }
    location /two {
      proxy_read_timeout 1m30s;
      location /two/inner { proxy_buffer_size 8k; proxy_pass http://a; }
    }
  }
  server { location / { fastcgi_pass 127.0.0.1:9000; } }`,
  );
  const [one, inner, fastcgi] = loadNginxModel(file).targets;
  assert.deepEqual(
    [one!.connectTimeoutMs, one!.readTimeoutMs, one!.sendTimeoutMs, one!.maxResponseHeaderBytes],
    [2000, 30_000, 60_000, 16_384],
  );
  assert.deepEqual(
    [inner!.connectTimeoutMs, inner!.readTimeoutMs, inner!.maxResponseHeaderBytes],
    [2000, 90_000, 8192],
  );
  // proxy_* settings do not reach fastcgi_pass; its own defaults apply.
  assert.deepEqual(
    [fastcgi!.connectTimeoutMs, fastcgi!.readTimeoutMs, fastcgi!.maxResponseHeaderBytes],
    [60_000, 60_000, 4096],
  );
});

test('upstream keepalive counts only with HTTP/1.1 and a cleared Connection header (set all or nothing)', (t) => {
  const file = nginxConfig(
    t,
    `  upstream pooled { server 127.0.0.1:1; keepalive 16; keepalive_timeout 30s; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  server {
    location /ok { proxy_pass http://pooled; }
    location /headers {
      proxy_set_header X-Real-IP $remote_addr;
      proxy_pass http://pooled;
    }
  }`,
  );
  const model = loadNginxModel(file);
  const [ok, headers] = model.targets;
  assert.equal(ok!.keepalive, true);
  assert.equal(ok!.keepaliveIdleMs, 30_000);
  assert.equal(ok!.honoursKeepAliveHint, false);
  // A proxy_set_header in the location drops every inherited one, Connection "" included.
  assert.equal(headers!.keepalive, false);
  const note = model.notes.find((entry) => entry.title.includes('cannot reuse'));
  assert.ok(note, JSON.stringify(model.notes));
  assert.match(note.title, /Connection "" is not set/);
});

test('variables: literal `set` values are substituted; a per-request host needs a resolver', (t) => {
  const file = nginxConfig(
    t,
    `  server {
    set $backend "app.internal:8080";
    location /set { proxy_pass http://$backend; }
    location /arg { proxy_pass http://$arg_host; }
  }
  server {
    resolver 10.0.0.2 valid=10s;
    location / { set $b app.internal; proxy_pass http://$b:81; }
  }`,
  );
  const model = loadNginxModel(file);
  const set = target(model.targets, 'proxy_pass http://$backend');
  assert.deepEqual(
    set.servers.map((server) => server.text),
    ['app.internal:8080'],
  );
  assert.equal(set.resolvedAtStartup, false, 'a variable makes nginx resolve per request');
  const arg = target(model.targets, 'proxy_pass http://$arg_host');
  assert.match(arg.dynamic ?? '', /per request/);
  assert.deepEqual(arg.servers, []);
  const resolved = target(model.targets, 'proxy_pass http://$b:81');
  assert.deepEqual(resolved.resolvers, ['10.0.0.2']);

  const critical = model.notes.filter((note) => note.severity === 'critical');
  assert.deepEqual(
    critical.map((note) => note.title),
    ['proxy_pass http://$backend resolves its host per request, but no resolver is defined'],
  );
  assert.equal(critical[0]!.cause, 'dns');
  assert.ok(model.notes.some((note) => note.severity === 'warning' && note.title.includes('$arg_host')));
});

test('TLS settings: no SNI and no verification by default, the upstream name as the name checked', (t) => {
  const file = nginxConfig(
    t,
    `  upstream secure { server 127.0.0.1:8443; }
  server {
    location /a { proxy_pass https://secure; }
    location /b {
      proxy_ssl_server_name on;
      proxy_ssl_verify on;
      proxy_ssl_name api.example.test;
      proxy_ssl_trusted_certificate /etc/ssl/ca.pem;
      proxy_pass https://secure;
    }
  }`,
  );
  const [a, b] = loadNginxModel(file).targets;
  const tlsA = a!.servers[0]!.tls!;
  assert.deepEqual([tlsA.sni, tlsA.verify, tlsA.verifyName, tlsA.caFile], [undefined, false, 'secure', undefined]);
  const tlsB = b!.servers[0]!.tls!;
  assert.deepEqual(
    [tlsB.sni, tlsB.verify, tlsB.verifyName, tlsB.caFile],
    ['api.example.test', true, 'api.example.test', '/etc/ssl/ca.pem'],
  );
});

test('logs, temp paths, user, worker limits, stream proxies and unused upstreams', (t) => {
  const file = nginxConfig(
    t,
    `  access_log logs/access.log;
  upstream unused { server 127.0.0.1:9; }
  server { listen 8080; location / { proxy_pass http://127.0.0.1:1; } }`,
    `user www-data;
worker_processes 2;
worker_rlimit_nofile 4096;
error_log /var/log/nginx/error.log warn;
stream { server { listen 9000; proxy_pass 127.0.0.1:5432; proxy_timeout 5m; } }`,
  );
  const model = loadNginxModel(file);
  assert.equal(model.user, 'www-data');
  assert.deepEqual(model.errorLogs, ['/var/log/nginx/error.log']);
  assert.ok(model.writePaths.some((path) => path.endsWith('/logs/access.log')));
  assert.deepEqual(model.maxConnections, {
    count: 128,
    perProcess: 64,
    setting: 'worker_connections 64 × worker_processes 2',
    rlimitNofile: 4096,
  });
  const stream = model.targets.find((entry) => entry.protocol === 'tcp');
  assert.ok(stream);
  assert.equal(stream.readTimeoutMs, 300_000);
  assert.ok(model.notes.some((note) => note.title === 'upstream unused is defined but no location uses it'));
  assert.deepEqual(
    model.listen.map((listen) => `${listen.host}:${listen.port}`),
    ['0.0.0.0:8080'],
  );
});
