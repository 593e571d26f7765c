/** Stands in for the namespace sysctl reader until it lands: a new namespace's kernel defaults. */
import type { ReservedPorts } from './sysctl.js';

/** A namespace's sysctls as the connect() model and tcpstate_netns_sysctl need them. */
export interface NamespaceSysctls {
  /**
   * Dotted name → value: net.ipv4.ip_local_port_range.low/.high, net.ipv4.tcp_tw_reuse,
   * net.ipv4.tcp_tw_reuse_delay (where the kernel has it), net.ipv4.tcp_timestamps,
   * net.ipv4.tcp_fin_timeout.
   */
  readonly values: Readonly<Record<string, number>>;
  readonly reserved: ReservedPorts;
  /** True when they could not be read and a new namespace's kernel defaults stand in. */
  readonly assumed: boolean;
}

/** Reads the sysctls of the namespace at `nsPath` (`<procfs>/<pid>/ns/net`); never throws. */
export type NamespaceSysctlReader = (
  nsPath: string,
) => NamespaceSysctls | Promise<NamespaceSysctls>;

export function newNamespaceDefaults(): NamespaceSysctls {
  return {
    values: {
      'net.ipv4.ip_local_port_range.low': 32768,
      'net.ipv4.ip_local_port_range.high': 60999,
      'net.ipv4.tcp_tw_reuse': 2,
      'net.ipv4.tcp_tw_reuse_delay': 1000,
      'net.ipv4.tcp_timestamps': 1,
      'net.ipv4.tcp_fin_timeout': 60,
    },
    reserved: [],
    assumed: true,
  };
}
