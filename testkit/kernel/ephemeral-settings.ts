/** Ephemeral-model settings for tests that feed the accumulator directly: kernel defaults. */

import type { EphemeralModelSettings, PortRange } from '../../src/snapshot/socket-accumulator.js';
import type { TimeWaitReuse } from '../../src/sources/sysctl.js';

export const KERNEL_DEFAULT_REUSE: TimeWaitReuse = {
  twReuse: 2,
  twReuseDelayMs: 1000,
  timestamps: 1,
};

export function ephemeralSettings(
  range: PortRange = { low: 32768, high: 60999 },
  overrides: Partial<Omit<EphemeralModelSettings, 'range'>> = {},
): EphemeralModelSettings {
  return { range, reserved: [], reuse: KERNEL_DEFAULT_REUSE, ...overrides };
}
