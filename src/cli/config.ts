import { readFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { parseDocument } from 'yaml';
import { clusterKeys, configHash, ETCD_ARGS, etcdTarget, withEtcd } from '../cluster/index.js';
import { checkConfigText } from '../config/index.js';
import { CliError, formatProblem } from '../errors.js';

/**
 * A shared document may leave `listen` to the nodes. Without a node file to take it from, the check
 * stands one in, so that only the document's own keys can fail it.
 */
const STAND_IN_LISTEN = [{ address: '127.0.0.1:8080' }];

const push = defineCommand({
  meta: {
    name: 'push',
    description:
      'Check a shared configuration like `gatewise check`, then store it in etcd (a bad file never reaches it)',
  },
  args: {
    file: { type: 'positional', description: 'the shared configuration (YAML)', required: true },
    ...ETCD_ARGS,
  },
  async run({ args }): Promise<number> {
    const target = await etcdTarget(args);
    const key = clusterKeys(target.etcd.prefix).config;
    let text: string;
    try {
      text = await readFile(args.file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${args.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 1);
    }
    const overrides = target.overrides ?? (parseDocument(text).has('listen') ? undefined : { listen: STAND_IN_LISTEN });
    const { problems } = checkConfigText(text, args.file, process.env, overrides);
    if (problems.length > 0) {
      for (const problem of problems) process.stderr.write(`${formatProblem(problem)}\n`);
      throw new CliError(
        `${args.file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: not pushed, etcd:${key} is unchanged`,
        1,
      );
    }
    const revision = await withEtcd(target, async (client) =>
      Number((await client.put(key).value(text).exec()).header.revision),
    );
    process.stdout.write(`pushed ${args.file} to etcd:${key}: revision ${revision} (hash ${configHash(text)})\n`);
    return 0;
  },
});

const get = defineCommand({
  meta: { name: 'get', description: 'Print the shared configuration stored in etcd (its revision on stderr)' },
  args: ETCD_ARGS,
  async run({ args }): Promise<number> {
    const target = await etcdTarget(args);
    const key = clusterKeys(target.etcd.prefix).config;
    const kv = await withEtcd(target, async (client) => (await client.get(key).exec()).kvs[0]);
    if (kv === undefined) throw new CliError(`etcd has no etcd:${key} yet: push one with gatewise config push FILE`, 1);
    const text = kv.value.toString();
    process.stdout.write(text);
    process.stderr.write(`etcd:${key}: revision ${kv.mod_revision} (hash ${configHash(text)})\n`);
    return 0;
  },
});

/** `gatewise config push FILE` / `gatewise config get`: the shared configuration of a cluster in etcd. */
export default defineCommand({
  meta: { name: 'config', description: 'The shared configuration in etcd: push (after the check) or get it' },
  subCommands: { push, get },
});
