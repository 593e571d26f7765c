/**
 * What a sample of the SNAT table costs against `cat` of the same file, measured where the
 * table is: in this process for a synthetic file, or as a child run inside a namespace
 * (`ip netns exec`), where /proc/net/nf_conntrack is that namespace's. argv[2]: JSON
 * ConntrackProbeRequest; prints one JSON ConntrackProbeResult line.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import { readSnatPorts } from '../../src/snapshot/snat-accumulator.js';
import { TcpTableReader } from '../../src/sources/tcp-table.js';
import {
  AFTER_WARM_UP_MS,
  addSamples,
  type CostSample,
  emptySample,
  measureCommand,
  measureInProcess,
  settle,
  warmUp,
} from '../lib/measure.js';

export interface ConntrackProbeRequest {
  /** The procfs root whose net/nf_conntrack is read. */
  readonly root: string;
  readonly rounds: number;
  readonly runsPerRound: number;
}

export interface ConntrackProbeResult {
  readonly cat: CostSample;
  readonly engine: CostSample;
  readonly lines: number;
  readonly bytes: number;
  readonly natted: number;
}

/** The NAT rules are a fixed range here: listing them is not the table's cost. */
const FIXED_RULES = () => ({ rules: 1, ranges: [{ low: 1024, high: 65535 }] });

export async function probeConntrack(
  request: ConntrackProbeRequest,
): Promise<ConntrackProbeResult> {
  const path = join(request.root, 'net/nf_conntrack');
  const context = {
    options: { ...defaultSampleOptions(request.root), snatTopDestinations: 10 },
    tables: new TcpTableReader(),
  };
  let last = readSnatPorts(context, FIXED_RULES);
  const sample = () => {
    last = readSnatPorts(context, FIXED_RULES);
  };
  warmUp(sample);
  await settle(AFTER_WARM_UP_MS);
  let cat = emptySample();
  let engine = emptySample();
  for (let round = 0; round < request.rounds; round++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (round % 2 === 0) cat = addSamples(cat, measureCommand(`cat ${path}`, request.runsPerRound));
    await settle();
    engine = addSamples(engine, measureInProcess(request.runsPerRound, sample));
    if (round % 2 === 1) cat = addSamples(cat, measureCommand(`cat ${path}`, request.runsPerRound));
  }
  return {
    cat,
    engine,
    lines: last.table.lines,
    bytes: last.table.bytes,
    natted: last.table.natted,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const request = JSON.parse(process.argv[2] ?? '{}') as ConntrackProbeRequest;
  process.stdout.write(`${JSON.stringify(await probeConntrack(request))}\n`);
}
