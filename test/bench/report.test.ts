import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { type BenchOptions, parseBenchArgs } from '../../bench/lib/args.js';
import {
  machineInfo,
  parseCpuModel,
  parseNginxVersion,
  parseWrkVersion,
  resultsMarkdown,
} from '../../bench/lib/report.js';
import { SCENARIOS } from '../../bench/lib/scenarios.js';

test('parses the CPU model and tool versions', () => {
  assert.equal(
    parseCpuModel('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n'),
    'AMD EPYC 7B13',
  );
  assert.equal(parseCpuModel('processor\t: 0\nHardware\t: BCM2835\n'), 'BCM2835');
  assert.equal(parseCpuModel(''), 'unknown');
  assert.equal(parseNginxVersion('nginx version: nginx/1.22.1\n'), 'nginx/1.22.1');
  assert.equal(
    parseWrkVersion('wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer\nUsage: wrk <options> <url>\n'),
    'wrk debian/4.1.0-3+b2 [epoll]',
  );
  assert.equal(parseWrkVersion('wrk 4.2.0 [kqueue] Copyright'), 'wrk 4.2.0 [kqueue]');
});

test('machine information comes from this machine', () => {
  const m = machineInfo();
  assert.match(m.nproc, /^\d+$/);
  assert.equal(m.node, process.version);
  assert.match(m.nginx, /^nginx\//);
  assert.match(m.wrk, /^wrk /);
});

test('the report holds the machine, the method and one table per scenario', () => {
  const options = (parseBenchArgs(['--quick'], '/r.md') as { options: BenchOptions }).options;
  const text = resultsMarkdown({
    date: new Date('2025-01-02T03:04:05Z'),
    command: 'npm run bench -- --quick',
    machine: {
      nproc: '2',
      cpuModel: 'AMD EPYC',
      kernel: '6.1',
      node: 'v20.20.2',
      nginx: 'nginx/1.22.1',
      wrk: 'wrk 4.1.0',
    },
    options,
    nginxKeepalive: 64,
    gatewiseMaxIdle: 256,
    elapsedSec: 95.4,
    sections: SCENARIOS.map((scenario) => ({
      scenario,
      rows: [{ label: 'gatewise', note: 'not built' }],
      notes: scenario.name === 'big' ? ['undici: exited (SIGKILL)'] : [],
    })),
  });
  assert.match(text, /^Generated 2025-01-02T03:04:05\.000Z by `npm run bench -- --quick` in 95 s\.$/m);
  assert.match(text, /nproc: 2; CPU: AMD EPYC/);
  assert.match(text, /1 repeat\(s\), each giving every target 1 s of warm-up load and a 3 s measured wrk run/);
  assert.match(text, /keepalive 64;/);
  for (const s of SCENARIOS) assert.match(text, new RegExp(`^## ${s.name}: `, 'm'));
  assert.equal(text.match(/^\| gatewise \| not built \|/gm)?.length, 3);
  assert.match(text, /^- undici: exited \(SIGKILL\)$/m);
});
