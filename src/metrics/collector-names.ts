/** Collector names and the engine source each one's numbers come from. */
import type { SourceName } from '../snapshot/model.js';

export const COLLECTOR_NAMES = [
  'sockets',
  'ports',
  'ephemeral',
  'sockstat',
  'netstat',
  'sysctl',
] as const;
export type CollectorName = (typeof COLLECTOR_NAMES)[number];

export const COLLECTOR_SOURCE: Readonly<Record<CollectorName, SourceName>> = {
  sockets: 'sockets',
  ports: 'sockets',
  ephemeral: 'sockets',
  sockstat: 'sockstat',
  netstat: 'netstat',
  sysctl: 'sysctl',
};
