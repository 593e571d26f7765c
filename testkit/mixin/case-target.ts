/**
 * The exporter every promtool case scrapes, and the pod whose network namespace the
 * per-namespace cases use (--collector.netns labels the node's families with it; the node's
 * own namespace has no tcpstate_netns_info).
 */
export const INSTANCE = 'web-1:10120';
export const TARGET = `job="tcpstate",instance="${INSTANCE}"`;

export const POD_LABELS = {
  netns: '4026532301',
  pod: 'web-7d9f8-x2x5q',
  namespace: 'shop',
  container: 'php-fpm',
} as const;
/** POD_LABELS as matchers. */
export const POD = Object.entries(POD_LABELS)
  .map(([name, value]) => `${name}="${value}"`)
  .join(',');
/** How an alert's description names that pod. */
export const POD_OWNER = `pod ${POD_LABELS.namespace}/${POD_LABELS.pod} (container ${POD_LABELS.container}) on ${INSTANCE}`;
