/**
 * The labels that say which network namespace a series is about, on every family that has
 * per-namespace series: `netns` is the namespace inode (as `lsns` and
 * `readlink /proc/<pid>/ns/net` show it), then its owner (empty when unknown).
 */
import type { NamespaceOwner } from '../sources/netns-owner.js';

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
