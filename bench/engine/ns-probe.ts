/**
 * Child run inside the table's namespace (`ip netns exec`), where /proc/net is that
 * namespace's: measures one round of the tools named in argv[2] (JSON ProbeRequest) on
 * the live table and prints one JSON ProbeResult line.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import type { Family, StateCounts } from '../../src/snapshot/model.js';
import { createSampler } from '../../src/snapshot/sample.js';
import { BUFFER_BYTES } from '../../src/sources/tcp-table.js';
import {
  AFTER_WARM_UP_MS,
  addSamples,
  type CostSample,
  emptySample,
  measureCommand,
  measureInProcess,
  processCpuSeconds,
  rotate,
  settle,
  warmUp,
} from '../lib/measure.js';
import type { Tool } from '../lib/results.js';
import { sampleNaively } from './naive-parser.js';
import { type ProfileEntry, profileCalls } from './profile.js';

export type ProbeTool = Extract<
  Tool,
  'cat' | 'read-only' | 'engine' | 'naive' | 'ss-awk' | 'node-exporter'
>;

export interface ProbeRequest {
  readonly tools: readonly ProbeTool[];
  readonly runs: number;
  /** Warm the in-process tools up first (small tables; on a million sockets one run is plenty). */
  readonly warm: boolean;
  readonly nodeExporter?: { readonly pid: number; readonly url: string };
  /** Also profile this many engine samples, after the timed ones. */
  readonly profileRuns?: number;
}

export interface ProbeResult {
  readonly samples: Partial<Record<ProbeTool, CostSample>>;
  /** What the engine saw in its last sample of this round. */
  readonly sockets: number;
  readonly bytes: number;
  readonly states: Record<Family, StateCounts>;
  /** Sum of node_tcp_connection_states in the last scrape. */
  readonly nodeExporterSockets?: number;
  readonly profile?: readonly ProfileEntry[];
}

const SS_AWK = "ss -tan | awk '{print $1}' | sort | uniq -c";

/** One scrape: node_exporter's CPU from its /proc/<pid>/stat, the wall time of the GET. */
async function scrapeNodeExporter(
  target: NonNullable<ProbeRequest['nodeExporter']>,
): Promise<{ sample: CostSample; sockets: number }> {
  const before = processCpuSeconds(target.pid);
  const started = performance.now();
  const response = await fetch(target.url);
  const text = await response.text();
  const wallSeconds = (performance.now() - started) / 1000;
  const after = processCpuSeconds(target.pid);
  if (!response.ok) throw new Error(`node_exporter answered ${response.status}`);
  let sockets = 0;
  // Its tx_queued_bytes and rx_queued_bytes "states" are byte counts, not sockets.
  for (const match of text.matchAll(/^node_tcp_connection_states\{state="(\w+)"\} (\S+)$/gm)) {
    if (!match[1]?.endsWith('_bytes')) sockets += Number(match[2]);
  }
  return {
    sample: {
      runs: 1,
      userSeconds: after.user - before.user,
      systemSeconds: after.system - before.system,
      wallSeconds: [wallSeconds],
    },
    sockets,
  };
}

const readBuffer = Buffer.allocUnsafe(BUFFER_BYTES);

/** The engine's read() loop without the decoding: the floor for any reader in Node. */
function readOnly(): void {
  for (const path of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const fd = openSync(path, 'r');
    try {
      while (readSync(fd, readBuffer, 0, readBuffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * One run of each tool in turn, `runs` times, so a change in the machine's load falls
 * on every tool alike instead of on whichever ran during it.
 */
async function probe(request: ProbeRequest): Promise<ProbeResult> {
  const sampler = createSampler(defaultSampleOptions('/proc'));
  let snapshot = sampler.sample();
  let nodeExporterSockets: number | undefined;
  const engine = () => {
    snapshot = sampler.sample();
  };
  const naive = () => {
    sampleNaively('/proc');
  };
  if (request.warm) {
    if (request.tools.includes('engine')) warmUp(engine);
    if (request.tools.includes('read-only')) warmUp(readOnly);
    if (request.tools.includes('naive')) warmUp(naive);
    if (request.nodeExporter !== undefined) await scrapeNodeExporter(request.nodeExporter);
    await settle(AFTER_WARM_UP_MS);
  }
  const runOnce: Record<ProbeTool, () => Promise<CostSample>> = {
    cat: async () => measureCommand('cat /proc/net/tcp /proc/net/tcp6', 1),
    'read-only': async () => {
      await settle();
      return measureInProcess(1, readOnly);
    },
    'ss-awk': async () => measureCommand(`sh -c "${SS_AWK}"`, 1),
    engine: async () => {
      await settle();
      return measureInProcess(1, engine);
    },
    naive: async () => {
      await settle();
      return measureInProcess(1, naive);
    },
    'node-exporter': async () => {
      if (request.nodeExporter === undefined)
        throw new Error('node-exporter needs its pid and url');
      const scraped = await scrapeNodeExporter(request.nodeExporter);
      nodeExporterSockets = scraped.sockets;
      return scraped.sample;
    },
  };
  const samples: Partial<Record<ProbeTool, CostSample>> = {};
  for (let run = 0; run < request.runs; run++) {
    for (const tool of rotate(request.tools, run)) {
      samples[tool] = addSamples(samples[tool] ?? emptySample(), await runOnce[tool]());
    }
  }
  const profile =
    request.profileRuns === undefined
      ? undefined
      : await profileCalls(() => sampler.sample(), request.profileRuns);
  const sockets = snapshot.sockets;
  if (sockets === undefined) throw new Error(`engine failed: ${snapshot.sources.sockets?.error}`);
  return {
    samples,
    sockets: sockets.tcp.sockets + sockets.tcp6.sockets,
    bytes: sockets.bytesRead,
    states: sockets.states,
    ...(nodeExporterSockets !== undefined && { nodeExporterSockets }),
    ...(profile !== undefined && { profile }),
  };
}

const request = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
process.stdout.write(`${JSON.stringify(await probe(request))}\n`);
