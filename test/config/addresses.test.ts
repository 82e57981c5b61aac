import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isLoopbackHost, parseHostPort, parseServerUrl } from '../../src/config/index.js';
import { GatewayError } from '../../src/errors.js';

test('host:port addresses, IPv6 in brackets, port 0 for any free port', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseHostPort('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseHostPort('[::]:443'), { host: '::', port: 443 });
  assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseHostPort('Gateway.Example.COM:65535'), { host: 'gateway.example.com', port: 65535 });
});

test('host:port addresses: missing or bad parts are refused with the reason', () => {
  const bad: Array<[string, RegExp]> = [
    ['8080', /the port is missing/],
    ['::1:80', /write IPv6 addresses in brackets/],
    ['[::1]', /port must be 0..65535/],
    ['1.2.3.4:65536', /port must be 0..65535/],
    ['host:', /port must be 0..65535/],
    [':80', /bad host/],
    ['bad host:80', /bad host/],
    ['[zz]:80', /not an IPv6 address/],
    ['999.1.1.1:80', /bad host/],
  ];
  for (const [text, reason] of bad) {
    assert.throws(
      () => parseHostPort(text),
      (error: unknown) =>
        error instanceof GatewayError && error.code === 'GW_CONFIG_ADDRESS' && reason.test(error.message),
      text,
    );
  }
});

test('server URLs: http, https (default ports), unix sockets', () => {
  assert.deepEqual(parseServerUrl('http://127.0.0.1:5001'), { kind: 'http', host: '127.0.0.1', port: 5001 });
  assert.deepEqual(parseServerUrl('http://backend'), { kind: 'http', host: 'backend', port: 80 });
  assert.deepEqual(parseServerUrl('https://API.internal'), { kind: 'https', host: 'api.internal', port: 443 });
  assert.deepEqual(parseServerUrl('HTTPS://[::1]:8443/'), { kind: 'https', host: '::1', port: 8443 });
  assert.deepEqual(parseServerUrl('unix:/run/app.sock'), { kind: 'unix', path: '/run/app.sock' });
});

test('server URLs: other schemes, paths, credentials and bad ports are refused', () => {
  const bad: Array<[string, RegExp]> = [
    ['ftp://h:21', /scheme must be/],
    ['127.0.0.1:5001', /scheme must be/],
    ['http://h:1/api', /no path, query or fragment/],
    ['http://h:1?x', /no path, query or fragment/],
    ['http://h:1#top', /no path, query or fragment/],
    ['http://u:p@h:1', /credentials/],
    ['http://h:0', /port must be 1..65535/],
    ['http://h:65536', /port must be 1..65535/],
    ['http://h:http', /port must be 1..65535/],
    ['http://:80', /bad host/],
    ['http://[::1:80', /bad host/],
    ['http://[fe80::zz]:80', /not an IPv6 address/],
    ['unix:run/app.sock', /must be absolute/],
    ['unix:///run/app.sock', /one slash/],
  ];
  for (const [text, reason] of bad) {
    assert.throws(
      () => parseServerUrl(text),
      (error: unknown) => error instanceof GatewayError && error.code === 'GW_CONFIG_URL' && reason.test(error.message),
      text,
    );
  }
});

test('loopback hosts', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST'])
    assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])
    assert.equal(isLoopbackHost(host), false, host);
});
