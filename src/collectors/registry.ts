/**
 * Every collector, one line each, in the order their flags and metrics appear. Flags,
 * `--help`, the README flag table, the collector names and the sample plan all derive
 * from this list (see docs/architecture.md, "Adding a collector").
 */
import { collectorSet } from './collector-set.js';
import { connectErrorsCollector } from './connect-errors.js';
import { conntrackCollector } from './conntrack.js';
import { ephemeralCollector } from './ephemeral.js';
import { netnsCollector } from './netns.js';
import { netstatCollector } from './netstat.js';
import { portsCollector } from './ports.js';
import { snatCollector } from './snat.js';
import { socketsCollector } from './sockets.js';
import { sockstatCollector } from './sockstat.js';
import { sysctlCollector } from './sysctl.js';

export const COLLECTORS = [
  socketsCollector,
  portsCollector,
  ephemeralCollector,
  sockstatCollector,
  netstatCollector,
  sysctlCollector,
  netnsCollector,
  conntrackCollector,
  snatCollector,
  connectErrorsCollector,
] as const;

export const REGISTRY = collectorSet(COLLECTORS);

export type CollectorName = (typeof COLLECTORS)[number]['name'];
export const COLLECTOR_NAMES: readonly CollectorName[] = REGISTRY.names;
