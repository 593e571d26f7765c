/**
 * Stands in for the namespace sysctl reader until it lands (same shapes): a new
 * namespace's kernel defaults, marked assumed.
 */
import type { Sysctls } from '../snapshot/model.js';
import type { EphemeralSettings } from './sysctl.js';

/** A namespace's per-namespace sysctls. */
export interface NamespaceSysctls {
  /** What the connect() model uses. */
  readonly ephemeral: EphemeralSettings;
  /** Every per-namespace numeric sysctl present, the port range and reserved ports. */
  readonly sysctls: Sysctls;
  /** True when these are a new namespace's kernel defaults, not the namespace's own values. */
  readonly assumed: boolean;
  readonly reason?: string;
}

export function assumedNamespaceSysctls(reason: string): NamespaceSysctls {
  const values = {
    'net.ipv4.ip_local_port_range.low': 32768,
    'net.ipv4.ip_local_port_range.high': 60999,
    'net.ipv4.tcp_tw_reuse': 2,
    'net.ipv4.tcp_tw_reuse_delay': 1000,
    'net.ipv4.tcp_timestamps': 1,
    'net.ipv4.tcp_fin_timeout': 60,
  };
  const range = { low: 32768, high: 60999 };
  return {
    ephemeral: {
      range,
      reserved: [],
      reuse: { twReuse: 2, twReuseDelayMs: 1000, timestamps: 1 },
      values,
    },
    sysctls: { values, portRange: range, reservedPorts: [] },
    assumed: true,
    reason,
  };
}
