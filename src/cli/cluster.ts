import { defineCommand } from 'citty';
import {
  type ClusterView,
  clusterKeys,
  ETCD_ARGS,
  etcdTarget,
  type NodeView,
  readClusterView,
  withEtcd,
} from '../cluster/index.js';
import { CliError } from '../errors.js';

const ERROR_WIDTH = 90;

/** What the STATUS column says: a healthy node not at the current revision is `lagging`. */
function shownStatus(node: NodeView): string {
  return node.status === 'ok' && node.lagging ? 'lagging' : node.status;
}

function firstLine(text: string | null): string {
  if (text === null) return '';
  const line = text.split('\n')[0] ?? '';
  const more = text.includes('\n') ? ` (+${text.split('\n').length - 1} more)` : '';
  return line.length > ERROR_WIDTH ? `${line.slice(0, ERROR_WIDTH - 1)}…${more}` : `${line}${more}`;
}

/** The table: one line per node, those needing attention first (the view's order). */
export function renderClusterStatus(view: ClusterView, key: string): string {
  const head = view.config
    ? `shared configuration etcd:${key}: revision ${view.config.revision} (hash ${view.config.config_hash})`
    : `shared configuration etcd:${key}: none (push one with gatewise config push FILE)`;
  const rows = [
    ['NODE', 'STATUS', 'REVISION', 'HASH', 'UPDATED', 'ERROR'],
    ...view.nodes.map((node) => [
      node.node_id,
      shownStatus(node),
      String(node.applied_revision ?? '-'),
      node.config_hash ?? '-',
      node.updated_at,
      firstLine(node.error),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  const unreadable = view.unreadable.map((name) => `unreadable record: ${name}`);
  return `${[head, '', ...(view.nodes.length > 0 ? lines : ['no node records (is any node running?)']), ...unreadable].join('\n')}\n`;
}

const status = defineCommand({
  meta: {
    name: 'status',
    description:
      "Every node's record: status, applied revision, error; rejecting, degraded and lagging nodes first (exit 1 unless all are ok at the current revision)",
  },
  args: { ...ETCD_ARGS, json: { type: 'boolean', description: 'JSON output' } },
  async run({ args }): Promise<number> {
    const target = await etcdTarget(args);
    const key = clusterKeys(target.etcd.prefix).config;
    const view = await withEtcd(target, (client) => readClusterView(client, target.etcd.prefix));
    process.stdout.write(args.json ? `${JSON.stringify(view, null, 2)}\n` : renderClusterStatus(view, key));
    const unwell = view.nodes.filter((node) => node.status !== 'ok' || node.lagging).length;
    if (view.nodes.length === 0) throw new CliError('no node has a record', 1);
    if (unwell > 0)
      throw new CliError(
        `${unwell} of ${view.nodes.length} nodes ${unwell === 1 ? 'is' : 'are'} not serving revision ${view.config?.revision ?? 'none'}`,
        1,
      );
    return 0;
  },
});

/** `gatewise cluster status`: what every node of the cluster serves, and why not when it does not. */
export default defineCommand({
  meta: { name: 'cluster', description: 'The nodes sharing a configuration through etcd: their status' },
  subCommands: { status },
});
