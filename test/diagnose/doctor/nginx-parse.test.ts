/** The nginx configuration reader: tokens, blocks, quotes, comments, includes with globs, positions, `nginx -T`. */
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type Directive,
  loadNginxConfig,
  parseNginxSize,
  parseNginxText,
  parseNginxTime,
  tokenize,
} from '../../../src/diagnose/doctor/index.js';
import { ConfigError } from '../../../src/errors.js';
import { tempDir } from './support.js';

function names(directives: readonly Directive[]): string[] {
  return directives.map((directive) => directive.name);
}

test('tokens: words, punctuation, quotes with escapes, comments, $-brace variables kept whole, positions', () => {
  const text = `# leading comment
set $a "two words";  # trailing comment
return 200 'single' "q\\"uote\\n";
location ~ ^/x\\d+$ { proxy_pass http://\${backend}:80; }
`;
  const { tokens, problems } = tokenize(text, 'f.conf');
  assert.deepEqual(problems, []);
  const words = tokens.map((token) => (token.kind === 'word' ? token.text : token.kind));
  assert.deepEqual(words, [
    'set',
    '$a',
    'two words',
    ';',
    'return',
    '200',
    'single',
    'q"uote\n',
    ';',
    'location',
    '~',
    '^/x\\d+$',
    '{',
    'proxy_pass',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: nginx's own ${name} syntax
    'http://${backend}:80',
    ';',
    '}',
  ]);
  const quoted = tokens.find((token) => token.text === 'two words')!;
  assert.equal(quoted.quoted, true);
  assert.equal(quoted.line, 2);
  assert.equal(quoted.col, 8);
  assert.equal(tokens.find((token) => token.text === 'proxy_pass')!.line, 4);
});

test('a "#" inside a word and a "}" after text are part of the word, as in nginx', () => {
  const { tokens } = tokenize('add_header X a#b;\nreturn 200 x};', 'f.conf');
  assert.deepEqual(
    tokens.map((token) => token.text),
    ['add_header', 'X', 'a#b', ';', 'return', '200', 'x}', ';'],
  );
});

test('blocks nest, and every directive keeps its file and line', () => {
  const directives = parseNginxText(
    `http {
  upstream api {
    server 127.0.0.1:5000 weight=2;
  }
  server {
    location /api {
      proxy_pass http://api;
    }
  }
}
`,
    '/etc/nginx/nginx.conf',
  );
  const http = directives[0]!;
  assert.equal(http.name, 'http');
  assert.deepEqual(names(http.block!), ['upstream', 'server']);
  const upstream = http.block![0]!;
  assert.deepEqual(upstream.args, ['api']);
  assert.deepEqual(upstream.block![0], {
    name: 'server',
    args: ['127.0.0.1:5000', 'weight=2'],
    file: '/etc/nginx/nginx.conf',
    line: 3,
  });
  const pass = http.block![1]!.block![0]!.block![0]!;
  assert.equal(pass.name, 'proxy_pass');
  assert.equal(pass.line, 7);
});

test('syntax errors are ConfigErrors with file:line:col for each problem', () => {
  assert.throws(
    () => parseNginxText('http {\n  server {\n    listen 80\n  }\n', 'bad.conf'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const messages = error.problems.map(
        (problem) => `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`,
      );
      assert.deepEqual(messages, [
        'bad.conf:3:5: directive "listen" is not terminated by ";"',
        'bad.conf:1:6: unexpected end of file, expecting "}"',
      ]);
      return true;
    },
  );
  assert.throws(() => parseNginxText('}', 'x.conf'), /x\.conf:1:1: unexpected "}"/);
  assert.throws(() => parseNginxText('return "open;\n', 'x.conf'), /x\.conf:1:8: unterminated " quoted string/);
});

test('include: globs relative to the main file folder, sorted, nested, spliced in place, positions in each file', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'snippets'));
  writeFileSync(join(dir, 'conf.d', 'b.conf'), 'upstream b { server 127.0.0.1:2; }\n');
  writeFileSync(join(dir, 'conf.d', 'a.conf'), '\n\nupstream a { server 127.0.0.1:1; }\ninclude snippets/x.conf;\n');
  writeFileSync(join(dir, 'conf.d', '.hidden.conf'), 'upstream hidden { server 127.0.0.1:3; }\n');
  writeFileSync(join(dir, 'conf.d', 'c.txt'), 'upstream c { server 127.0.0.1:4; }\n');
  writeFileSync(join(dir, 'snippets', 'x.conf'), 'upstream x { server 127.0.0.1:5; }\n');
  writeFileSync(join(dir, 'nginx.conf'), 'events {}\nhttp {\n  include conf.d/*.conf;\n  include empty.d/*.conf;\n}\n');

  const config = loadNginxConfig(join(dir, 'nginx.conf'));
  const http = config.directives.find((directive) => directive.name === 'http')!;
  assert.deepEqual(
    http.block!.map((directive) => directive.args[0]),
    ['a', 'x', 'b'],
  );
  const a = http.block![0]!;
  assert.equal(a.file, join(dir, 'conf.d', 'a.conf'));
  assert.equal(a.line, 3);
  assert.equal(http.block![1]!.file, join(dir, 'snippets', 'x.conf'));
  assert.deepEqual(config.files, [
    join(dir, 'nginx.conf'),
    join(dir, 'conf.d', 'a.conf'),
    join(dir, 'snippets', 'x.conf'),
    join(dir, 'conf.d', 'b.conf'),
  ]);
  assert.deepEqual(config.notes, [
    { file: join(dir, 'nginx.conf'), line: 4, message: 'include empty.d/*.conf matched no file' },
  ]);
});

test('include of a missing file without a glob is an error at the include line; include loops stop', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'nginx.conf'), 'http {\n  include missing.conf;\n}\n');
  assert.throws(
    () => loadNginxConfig(join(dir, 'nginx.conf')),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        new RegExp(`nginx\\.conf:2:1: cannot read ${join(dir, 'missing.conf')} \\(ENOENT\\)`),
      );
      return true;
    },
  );
  writeFileSync(join(dir, 'loop.conf'), 'include loop.conf;\n');
  assert.throws(() => loadNginxConfig(join(dir, 'loop.conf')), /nested deeper than 16/);
  assert.throws(() => loadNginxConfig(join(dir, 'nope.conf')), /cannot read .*nope\.conf \(ENOENT\)/);
});

test('the output of nginx -T is read as the files it lists, includes resolved among them', (t) => {
  const dir = tempDir(t);
  const dump = `nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
# configuration file /etc/nginx/nginx.conf:
events {}
http {
    include /etc/nginx/conf.d/*.conf;
}

# configuration file /etc/nginx/conf.d/app.conf:
upstream app {
    server 127.0.0.1:5000;
}
`;
  writeFileSync(join(dir, 'dump.txt'), dump);
  const config = loadNginxConfig(join(dir, 'dump.txt'));
  assert.equal(config.file, '/etc/nginx/nginx.conf');
  assert.deepEqual(config.files, ['/etc/nginx/nginx.conf', '/etc/nginx/conf.d/app.conf']);
  const upstream = config.directives.find((directive) => directive.name === 'http')!.block![0]!;
  assert.equal(upstream.name, 'upstream');
  assert.equal(upstream.file, '/etc/nginx/conf.d/app.conf');
  assert.equal(upstream.line, 1);
});

test('nginx times and sizes', () => {
  assert.equal(parseNginxTime('30'), 30_000);
  assert.equal(parseNginxTime('500ms'), 500);
  assert.equal(parseNginxTime('1m30s'), 90_000);
  assert.equal(parseNginxTime('2h'), 7_200_000);
  assert.equal(parseNginxTime('soon'), undefined);
  assert.equal(parseNginxSize('4k'), 4096);
  assert.equal(parseNginxSize('8K'), 8192);
  assert.equal(parseNginxSize('1m'), 1024 * 1024);
  assert.equal(parseNginxSize('512'), 512);
  assert.equal(parseNginxSize('big'), undefined);
});
