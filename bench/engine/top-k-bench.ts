/**
 * Ranking the top destinations and remote ports: SocketAccumulator.finish() over 200k
 * destinations (IPv4, 1-3 TIME_WAIT sockets each, toward 200k remote addresses) and
 * 60k remote ports, at K = 10 and K = 10 000; the median of 5 runs per K
 * (`npm run bench -- --only top-k`, docs/reliability.md).
 */
import { performance } from 'node:perf_hooks';
import { SocketAccumulator } from '../../src/snapshot/socket-accumulator.js';
import type { BenchContext } from '../lib/context.js';

const DESTINATIONS = 200_000;
/** Runs per K at full effort. */
const RUNS = 5;
const TIME_WAIT = 5;
const LOCAL = (198 << 24) | (18 << 16) | 1;
const RANGE = { low: 32768, high: 60999 };
/** Kernel defaults: toward these non-loopback destinations no TIME_WAIT is reusable. */
const SETTINGS = {
  range: RANGE,
  reserved: [],
  reuse: { twReuse: 2, twReuseDelayMs: 1000, timestamps: 1 },
} as const;
/** TIME_WAIT timer fields: tr 3, 30 s (3000 ticks) left. */
const TIMER_ACTIVE = 3;
const TICKS_LEFT = 3000;

function fill(accumulator: SocketAccumulator): number {
  accumulator.begin(SETTINGS);
  let sockets = 0;
  for (let i = 0; i < DESTINATIONS; i++) {
    // 198.19.x.y, remote ports spread over 60k so the remote-port ranking has work too.
    const remote = (198 << 24) | (19 << 16) | i;
    const remotePort = 1024 + (i % 60_000);
    const copies = 1 + (((i * 2_654_435_761) >>> 30) % 3);
    for (let c = 0; c < copies; c++) {
      const localPort = RANGE.low + ((i + c * 9_973) % (RANGE.high - RANGE.low));
      accumulator.addIpv4(
        TIME_WAIT,
        localPort,
        remotePort,
        LOCAL | 0,
        remote | 0,
        TIMER_ACTIVE,
        TICKS_LEFT,
      );
      sockets++;
    }
  }
  return sockets;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export function runTopKPart(context: BenchContext): void {
  const runs = Math.max(3, Math.round(RUNS * context.options.effort));
  const accumulator = new SocketAccumulator();
  for (const k of [10, 10_000]) {
    context.log(`top-k: finish() at K=${k}, ${runs} runs`);
    const times: number[] = [];
    let ranked = { destinations: 0, kept: 0 };
    for (let run = 0; run < runs; run++) {
      fill(accumulator);
      const started = performance.now();
      const aggregates = accumulator.finish({
        maxListenPorts: 64,
        topRemotePorts: k,
        topDestinations: k,
      });
      times.push(performance.now() - started);
      ranked = {
        destinations: aggregates.ephemeral?.destinationCount ?? 0,
        kept: aggregates.ephemeral?.destinations.length ?? 0,
      };
    }
    context.emit({ kind: 'top-k', k, ...ranked, runs, medianMs: median(times) });
  }
}
