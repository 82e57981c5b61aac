/**
 * deploy/: what can be checked without Docker or a Kubernetes cluster. Every YAML file parses; the
 * node files and shared configurations pass Gatewise's own checks; the Kubernetes objects agree
 * with each other (selectors, ports, probes, mounts, the SRV name of the example backend); the
 * compose file has its three nodes, etcd and Redis; the Dockerfile builds a non-root image with a
 * health check whose script works against real servers.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { checkConfigText, checkNodeText, parseHostPort } from '../../src/config/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'kubernetes');

/** A parsed manifest, walked by known paths: a wrong path fails the assertion that reads it. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; typing every Kubernetes object would restate its API
type Doc = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Every document of a file, failing on any YAML error or warning. */
function documents(path: string, options: { merge?: boolean } = {}): Doc[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), options);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
    assert.deepEqual(problems, [], relative(ROOT, path));
  }
  return list.map((doc) => doc.toJS({ maxAliasCount: 100 }) as Doc).filter((doc) => doc !== null);
}

const k8sObjects = () => readdirSync(K8S).flatMap((name) => documents(join(K8S, name)));
const byKind = (objects: Doc[], kind: string, name?: string) => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  assert.equal(found.length, 1, `one ${kind}${name ? ` ${name}` : ''}`);
  return found[0]!;
};

/** Whether every key/value of `selector` is among `labels`. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Checks a node file the way `gatewise serve` reads it, and a shared config with the node's keys over it. */
function checkPair(nodeText: string, sharedText: string, env: NodeJS.ProcessEnv, where: string) {
  const node = checkNodeText(nodeText, `${where}:node`, env);
  assert.deepEqual(node.problems, [], `${where} node file`);
  const shared = checkConfigText(sharedText, `${where}:shared`, env, node.raw);
  assert.deepEqual(shared.problems, [], `${where} shared config`);
  return shared.config!;
}

test('every YAML file under deploy/ parses without errors or warnings', () => {
  const files = yamlFiles(DEPLOY);
  assert.ok(files.length >= 10, files.join(', '));
  for (const file of files) assert.ok(documents(file, { merge: true }).length > 0, relative(ROOT, file));
});

test('the Kubernetes kustomization lists every manifest, and each object has a kind and a name', () => {
  const kustomization = documents(join(K8S, 'kustomization.yaml'))[0]!;
  const manifests = readdirSync(K8S).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
  assert.deepEqual([...kustomization.resources].sort(), manifests.sort());
  for (const object of k8sObjects().filter((o) => o.kind !== 'Kustomization')) {
    assert.equal(typeof object.apiVersion, 'string', JSON.stringify(object).slice(0, 80));
    assert.match(object.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
});

test('the gateway Deployment runs non-root with probes on the admin API', () => {
  const objects = k8sObjects();
  const deployment = byKind(objects, 'Deployment', 'gatewise');
  const pod = deployment.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(pod.automountServiceAccountToken, false);
  const container = pod.containers.find((c: Doc) => c.name === 'gatewise');
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);

  const ports = Object.fromEntries(container.ports.map((p: Doc) => [p.name, p.containerPort]));
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.startupProbe.httpGet.path, '/healthz');
  for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe])
    assert.equal(probe.httpGet.port, 'admin');
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
  // The pause before SIGTERM plus Gatewise's default grace must fit in the termination grace period.
  const pauseSeconds = Number(container.lifecycle.preStop.exec.command[1]);
  assert.ok(pod.terminationGracePeriodSeconds > pauseSeconds + 10);

  // The node file is mounted where --config says, and listens on the ports the container names.
  const args: string[] = container.args;
  const configPath = args[args.indexOf('--config') + 1]!;
  const configMap = byKind(objects, 'ConfigMap', 'gatewise-node');
  const mount = container.volumeMounts.find((m: Doc) => configPath.startsWith(`${m.mountPath}/`));
  const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
  assert.equal(volume.configMap.name, 'gatewise-node');
  const nodeText: string = configMap.data[configPath.slice(mount.mountPath.length + 1)];
  const env = { POD_NAME: 'gatewise-0', GATEWISE_ADMIN_TOKEN: 'token' };
  const config = checkPair(nodeText, configMap.data['shared.yaml'], env, 'configmap.yaml');
  assert.equal(parseHostPort(config.admin.address).port, ports.admin);
  assert.equal(parseHostPort(config.listen[0]!.address).port, ports.http);
  // Every ${VAR} of the node file is set in the container's environment.
  const envNames = container.env.map((e: Doc) => e.name);
  for (const [, name] of nodeText.matchAll(/\$\{(\w+)/g)) assert.ok(envNames.includes(name), name);
  assert.equal(
    container.env.find((e: Doc) => e.name === 'GATEWISE_ADMIN_TOKEN').valueFrom.secretKeyRef.name,
    'gatewise-admin',
  );
  // data_dir is a writable volume, not the read-only root filesystem.
  const dataMount = container.volumeMounts.find((m: Doc) => m.mountPath === config.cluster!.data_dir);
  assert.ok(dataMount && !dataMount.readOnly, 'data_dir is mounted writable');
  assert.ok(pod.volumes.find((v: Doc) => v.name === dataMount.name).emptyDir);
});

test('the Service and the PodDisruptionBudget select the Deployment’s pods', () => {
  const objects = k8sObjects();
  const deployment = byKind(objects, 'Deployment', 'gatewise');
  const labels = deployment.spec.template.metadata.labels;
  const selector = deployment.spec.selector.matchLabels;
  assert.ok(selects(selector, labels));
  const pdb = byKind(objects, 'PodDisruptionBudget');
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.deepEqual(pdb.spec.selector.matchLabels, selector);
  assert.ok(pdb.spec.maxUnavailable < deployment.spec.replicas);
  const service = byKind(objects, 'Service', 'gatewise');
  assert.ok(selects(service.spec.selector, labels));
  const containerPorts = deployment.spec.template.spec.containers[0].ports.map((p: Doc) => p.name);
  for (const port of service.spec.ports) assert.ok(containerPorts.includes(port.targetPort), port.targetPort);
  assert.ok(!service.spec.ports.some((p: Doc) => p.targetPort === 'admin'), 'the admin port is not exposed');
});

test('the shared config discovers the example backend through its headless Service’s SRV name', () => {
  const objects = k8sObjects();
  const namespace = documents(join(K8S, 'kustomization.yaml'))[0]!.namespace;
  const shared = parse(byKind(objects, 'ConfigMap', 'gatewise-node').data['shared.yaml']);
  const srv: string = shared.upstreams.api.discover.srv;
  const service = byKind(objects, 'Service', 'api');
  assert.equal(service.spec.clusterIP, 'None', 'headless: one SRV record per ready pod');
  const port = service.spec.ports[0];
  // Kubernetes DNS: _<port name>._<protocol>.<service>.<namespace>.svc.cluster.local
  assert.equal(srv, `_${port.name}._${port.protocol.toLowerCase()}.api.${namespace}.svc.cluster.local`);
  const backend = byKind(objects, 'Deployment', 'api');
  assert.ok(selects(service.spec.selector, backend.spec.template.metadata.labels));
  const container = backend.spec.template.spec.containers[0];
  const named = container.ports.find((p: Doc) => p.name === port.targetPort);
  assert.equal(named.containerPort, Number(container.args[container.args.indexOf('--port') + 1]));
  assert.equal(backend.spec.template.spec.securityContext.runAsNonRoot, true);
});

test('compose: three gateway nodes, etcd, Redis, the config push and two backends', () => {
  const compose = documents(join(DEPLOY, 'compose.yaml'), { merge: true })[0]!;
  const services = compose.services as Record<string, Doc>;
  const nodes = Object.keys(services).filter((name) => services[name]!.command?.[0] === 'serve');
  assert.deepEqual(nodes.sort(), ['gatewise-1', 'gatewise-2', 'gatewise-3']);
  assert.ok(services.etcd && services.redis);
  const hostPorts = new Set<string>();
  const ids = new Set<string>();
  const nodeText = readFileSync(join(DEPLOY, 'compose/node.yaml'), 'utf8');
  const sharedText = readFileSync(join(DEPLOY, 'compose/gatewise.yaml'), 'utf8');
  for (const name of nodes) {
    const service = services[name]!;
    assert.equal(service.image, 'gatewise:latest');
    assert.equal(service.build.dockerfile, 'deploy/Dockerfile');
    assert.ok(existsSync(join(DEPLOY, service.build.context, service.build.dockerfile)));
    const configPath = service.command[service.command.indexOf('--config') + 1];
    assert.ok(service.volumes.includes(`./compose/node.yaml:${configPath}:ro`), name);
    for (const dependency of ['etcd', 'redis'])
      assert.equal(service.depends_on[dependency].condition, 'service_healthy');
    assert.equal(service.depends_on['config-push'].condition, 'service_completed_successfully');
    ids.add(service.environment.GATEWISE_NODE_ID);
    for (const port of service.ports) hostPorts.add(port.split(':').slice(0, -1).join(':'));
    assert.ok(
      service.volumes.some((v: string) => v.endsWith(':/var/lib/gatewise')),
      `${name} keeps its data`,
    );
    checkPair(
      nodeText,
      sharedText,
      { GATEWISE_NODE_ID: service.environment.GATEWISE_NODE_ID, GATEWISE_ADMIN_TOKEN: 't' },
      name,
    );
  }
  assert.equal(ids.size, 3, 'distinct node ids');
  assert.equal(hostPorts.size, 6, 'distinct host ports');

  // The node file points at the compose services; the shared config at the backends' ports.
  const config = checkPair(nodeText, sharedText, { GATEWISE_NODE_ID: 'x', GATEWISE_ADMIN_TOKEN: 't' }, 'compose');
  assert.deepEqual(config.cluster!.etcd!.endpoints, ['http://etcd:2379']);
  assert.equal(config.cluster!.redis!.url, 'redis://redis:6379');
  for (const server of config.upstreams.api!.servers) {
    const url = new URL(server.url);
    const backend = services[url.hostname];
    assert.ok(backend, `${url.hostname} is a compose service`);
    assert.equal(backend.command[backend.command.indexOf('--port') + 1], url.port);
  }
  const push = services['config-push']!;
  assert.deepEqual(push.command.slice(0, 2), ['config', 'push']);
  assert.ok(push.volumes.includes(`./compose/gatewise.yaml:${push.command[2]}:ro`));
});

test('the Dockerfile: multi-stage on node:20-slim, dev dependencies pruned, non-root, health check', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const instructions = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => ({ op: line.split(/\s+/)[0]!.toUpperCase(), rest: line.slice(line.indexOf(' ') + 1).trim() }));
  const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.rest);
  assert.match(all('ARG').join('\n'), /NODE_IMAGE=node:20-slim/);
  assert.equal(all('FROM').length, 2);
  const run = all('RUN').join('\n');
  assert.match(run, /npm ci\b/);
  assert.match(run, /npm prune --omit=dev/);
  const users = all('USER');
  assert.equal(users.length, 1);
  // Numeric, so that Kubernetes' runAsNonRoot can verify it; and not root.
  assert.match(users[0]!, /^[1-9]\d*(:\d+)?$/);
  const deployment = byKind(k8sObjects(), 'Deployment', 'gatewise');
  assert.equal(Number(users[0]!.split(':')[0]), deployment.spec.template.spec.securityContext.runAsUser);
  const healthcheck = all('HEALTHCHECK')[0] ?? '';
  assert.match(healthcheck, /CMD \["node", "\/app\/deploy\/healthcheck\.js"\]/);
  assert.match(all('ENTRYPOINT')[0] ?? '', /\/app\/bin\/gatewise\.js/);

  // Every file copied from the build context exists and is let through the .dockerignore.
  const ignore = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('!'))
    .map((line) => line.slice(1).replace(/\/$/, ''));
  for (const copy of all('COPY').filter((rest) => !rest.startsWith('--from'))) {
    const sources = copy.split(/\s+/).slice(0, -1);
    for (const source of sources) {
      const path = source.replace(/\/$/, '');
      assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
      assert.ok(ignore.includes(path), `${path} is in the build context`);
    }
  }
});

test('kubectl kustomize builds the manifests', (t) => {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (probe.error !== undefined) {
    t.skip('kubectl is not installed');
    return;
  }
  const built = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const kinds = parseAllDocuments(built.stdout).map((doc) => (doc.toJS() as Doc).kind);
  for (const kind of ['Namespace', 'ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget'])
    assert.ok(kinds.includes(kind), kind);
});

// --- the container health check script, against real servers ---

const HEALTHCHECK = join(DEPLOY, 'healthcheck.js');

async function server(t: TestContext, handler: http.RequestListener): Promise<number> {
  const s = http.createServer(handler);
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
  t.after(() => {
    s.closeAllConnections();
    return new Promise<void>((done) => s.close(() => done()));
  });
  return (s.address() as AddressInfo).port;
}

function runCheck(
  url: string | undefined,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const args = url === undefined ? [HEALTHCHECK] : [HEALTHCHECK, url];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done) => child.on('close', (code) => done({ code: code ?? -1, stderr })));
}

test('healthcheck.js: exit 0 on 2xx, 1 on an error status, a refused connection or a timeout', async (t) => {
  const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];
  const port = await server(t, (req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    if (req.url === '/readyz') res.writeHead(503).end('draining');
    else if (req.url === '/hang') return;
    else res.writeHead(200).end('ok');
  });
  assert.equal((await runCheck(`http://127.0.0.1:${port}/healthz`)).code, 0);
  const notReady = await runCheck(`http://127.0.0.1:${port}/readyz`);
  assert.equal(notReady.code, 1);
  assert.match(notReady.stderr, /answered 503/);
  const hung = await runCheck(`http://127.0.0.1:${port}/hang`, { GATEWISE_HEALTH_TIMEOUT_MS: '300' });
  assert.equal(hung.code, 1);
  assert.match(hung.stderr, /did not answer/);
  // The URL from the environment, and the admin token as a bearer token when one is set.
  const fromEnv = await runCheck(undefined, {
    GATEWISE_HEALTH_URL: `http://127.0.0.1:${port}/from-env`,
    GATEWISE_ADMIN_TOKEN: 's3cret',
  });
  assert.equal(fromEnv.code, 0);
  assert.deepEqual(seen.at(-1), { url: '/from-env', authorization: 'Bearer s3cret' });
  assert.equal(seen[0]!.authorization, undefined);

  // A port nothing listens on: bound, then closed.
  const gone = http.createServer();
  await new Promise<void>((done) => gone.listen(0, '127.0.0.1', done));
  const freePort = (gone.address() as AddressInfo).port;
  await new Promise<void>((done) => gone.close(() => done()));
  const refused = await runCheck(`http://127.0.0.1:${freePort}/healthz`);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ECONNREFUSED/);
});
