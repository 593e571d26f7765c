/**
 * The default run, from the flag table's defaults (each collector's limits are declared in
 * its own file): what doctor, the bench and tests sample with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleOptions } from '../snapshot/model.js';
import { type ExporterConfig, parseExporterArgs, sampleOptionsFor } from './flags.js';

function defaultConfig(): ExporterConfig {
  const parsed = parseExporterArgs([]);
  if (!parsed.ok || parsed.command.action !== 'serve')
    throw new Error('the flag defaults do not parse');
  return parsed.command.config;
}

export const DEFAULT_CONFIG: ExporterConfig = defaultConfig();

/** Engine options with every collector's default, for a procfs root. */
export function defaultSampleOptions(procfsRoot: string): SampleOptions {
  return sampleOptionsFor({ ...DEFAULT_CONFIG, procfsRoot });
}

/**
 * Doctor's plan: the defaults, plus conntrack's stats file and the NAT ports of its table
 * where the kernel has them (a host without nf_conntrack is not reported as missing a
 * source), and the UDP tables where they exist (the ports a wider ephemeral range must
 * reserve; captured trees may lack them). `snatUsablePorts`: as --collector.snat.usable-ports,
 * '' to read the NAT rules.
 */
export function doctorSampleOptions(procfsRoot: string, snatUsablePorts = ''): SampleOptions {
  const options = defaultSampleOptions(procfsRoot);
  const conntrack = existsSync(join(procfsRoot, 'net/stat/nf_conntrack'));
  const snat = existsSync(join(procfsRoot, 'net/nf_conntrack'));
  const udp = existsSync(join(procfsRoot, 'net/udp'));
  return { ...options, snatUsablePorts, sources: { ...options.sources, conntrack, snat, udp } };
}
