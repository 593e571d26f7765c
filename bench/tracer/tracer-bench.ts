/**
 * Part `tracer`: what the connect-errors collector's tracefs events cost the host
 * (docs/connect-errors.md, "Cost"). Enabling any syscall exit event sends every syscall of
 * every process through the tracepoint path, so a syscall-heavy loop (getppid) and a
 * connect()/close() loop run in a lab namespace with the events off and on, alternated round
 * by round so that both sides share the machine's load. Each round's time per call is kept.
 */
import { execFileSync } from 'node:child_process';
import { ConnectErrorStream } from '../../src/sources/connect-errors.js';
import { DEFAULT_TRACEFS } from '../../src/sources/tracefs-instance.js';
import { missingCapability } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import type { BenchContext } from '../lib/context.js';

const PROGRAM = new URL('../../testkit/programs/syscall-loop.mjs', import.meta.url).pathname;
/** 500k getppid() take 0.2-3 s here: far above the clock, short enough for 8 rounds × 2. */
const LOOP = { getppid: 500_000, connects: 3_000 };
const ROUNDS = 8;

interface Timing {
  readonly getppidNs: number;
  readonly connectUs: number;
}

function runLoop(ns: string): Timing {
  const out = execFileSync(
    'ip',
    ['netns', 'exec', ns, process.execPath, PROGRAM, JSON.stringify(LOOP)],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(out) as Timing;
}

export async function runTracerPart(context: BenchContext): Promise<void> {
  // Without tracefs or its syscall events, the stream's start throws and says why.
  const missing = missingCapability({ netns: true });
  if (missing !== undefined) {
    context.note('tracer', `skipped: ${missing}`);
    return;
  }
  const rounds = Math.max(2, Math.round(ROUNDS * context.options.effort));
  context.log(`tracer: ${rounds} rounds, events off and on alternated`);
  const lab = new NetnsLab('trbench');
  try {
    const ns = lab.addNamespace('loop');
    const off: Timing[] = [];
    const on: Timing[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first, so a drift in load favours neither.
      for (const enabled of round % 2 === 0 ? [false, true] : [true, false]) {
        const stream = enabled
          ? ConnectErrorStream.start({
              procfsRoot: '/proc',
              tracefsPath: DEFAULT_TRACEFS,
              podLogsDir: '/nonexistent',
              maxNamespaces: 10,
            })
          : undefined;
        try {
          (enabled ? on : off).push(runLoop(ns));
          stream?.poll();
        } finally {
          stream?.close();
        }
      }
    }
    context.emit({
      kind: 'tracer',
      loop: '`getppid()`',
      calls: LOOP.getppid,
      offNs: off.map((timing) => timing.getppidNs),
      onNs: on.map((timing) => timing.getppidNs),
    });
    context.emit({
      kind: 'tracer',
      loop: '`connect()`+`close()` on loopback',
      calls: LOOP.connects,
      offNs: off.map((timing) => timing.connectUs * 1000),
      onNs: on.map((timing) => timing.connectUs * 1000),
    });
  } finally {
    await lab.close();
  }
}
