/** Namespace sysctls as the reader gives them, from values chosen by a fixture test. */
import type { NamespaceSysctls } from '../../src/sources/netns-sysctl.js';
import { FIXED_TW_REUSE_DELAY_MS, type ReservedPorts } from '../../src/sources/sysctl.js';

/** From values by dotted name (the port range as `.low` and `.high`). */
export function namespaceSysctls(
  values: Readonly<Record<string, number>>,
  reserved: ReservedPorts = [],
): NamespaceSysctls {
  const range = {
    low: values['net.ipv4.ip_local_port_range.low'] as number,
    high: values['net.ipv4.ip_local_port_range.high'] as number,
  };
  const reuse = {
    twReuse: values['net.ipv4.tcp_tw_reuse'] as number,
    twReuseDelayMs: values['net.ipv4.tcp_tw_reuse_delay'] ?? FIXED_TW_REUSE_DELAY_MS,
    timestamps: values['net.ipv4.tcp_timestamps'] as number,
  };
  return {
    ephemeral: { range, reserved, reuse, values },
    sysctls: { values, portRange: range, reservedPorts: reserved },
    assumed: false,
  };
}
