/**
 * The labels that say which network namespace a series is about, on every family that has
 * per-namespace series: `netns` is the namespace inode (as `lsns` and
 * `readlink /proc/<pid>/ns/net` show it), then its owner (empty when unknown).
 */
import type { Snapshot } from '../snapshot/model.js';
import type { NamespaceSample } from '../snapshot/netns-view.js';
import type { NamespaceOwner } from '../sources/netns-owner.js';
import { type ConstMetricDefinition, type LabelledValue, labelled } from './collector.js';

export const NAMESPACE_LABELS = ['netns', 'pod', 'namespace', 'container'] as const;

export type NamespaceLabels = Record<(typeof NAMESPACE_LABELS)[number], string>;

export function namespaceLabels(
  netns: number | string,
  owner: Pick<NamespaceOwner, 'pod' | 'namespace' | 'container'>,
): NamespaceLabels {
  return {
    netns: String(netns),
    pod: owner.pod,
    namespace: owner.namespace,
    container: owner.container,
  };
}

/** The node's own series: it is no pod's. */
const NODE_OWNER = { pod: '', namespace: '', container: '' };

function* withNamespaceLabels(
  samples: Iterable<LabelledValue>,
  labels: NamespaceLabels,
): Iterable<LabelledValue> {
  for (const one of samples) yield labelled(one.value, { ...one.labels, ...labels });
}

/** Where a family finds the node's data and each namespace's. */
export interface NamespaceFeeds<Data> {
  readonly node: (snapshot: Snapshot) => Data | undefined;
  readonly namespace: (namespace: NamespaceSample, snapshot: Snapshot) => Data | undefined;
  readonly namespaces: (snapshot: Snapshot) => readonly NamespaceSample[];
}

/**
 * One family fed by the node's data and every namespace's (--collector.netns), each series
 * labelled with its namespace: the node's with its own inode (empty when unreadable) and
 * empty owner labels. Either part is left out alone when its data is missing.
 */
export function acrossNamespaces<Data>(
  definition: ConstMetricDefinition<Data>,
  feeds: NamespaceFeeds<Data>,
): ConstMetricDefinition<Snapshot> {
  return {
    name: definition.name,
    help: `${definition.help} netns, pod, namespace and container name the network namespace (docs/namespaces.md).`,
    type: definition.type,
    labelNames: [...(definition.labelNames ?? []), ...NAMESPACE_LABELS],
    *values(snapshot) {
      const node = feeds.node(snapshot);
      if (node !== undefined) {
        yield* withNamespaceLabels(
          definition.values(node),
          namespaceLabels(snapshot.netnsInode ?? '', NODE_OWNER),
        );
      }
      for (const namespace of feeds.namespaces(snapshot)) {
        const data = feeds.namespace(namespace, snapshot);
        if (data === undefined) continue;
        yield* withNamespaceLabels(
          definition.values(data),
          namespaceLabels(namespace.inode, namespace.owner),
        );
      }
    },
  };
}
