import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectErrorStream,
  EXITED_NETNS,
  type FailureSeries,
} from '../../src/sources/connect-errors.js';
import { DEFAULT_TRACEFS } from '../../src/sources/tracefs-instance.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { runFailingCalls } from '../../testkit/kernel/failing-calls.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';

const OPTIONS = {
  procfsRoot: '/proc',
  tracefsPath: DEFAULT_TRACEFS,
  podLogsDir: '/nonexistent',
  maxNamespaces: 1000,
};

function countOf(
  stream: ConnectErrorStream,
  syscall: FailureSeries['syscall'],
  netns: string,
): number {
  return (
    stream.counts().series.find((one) => one.syscall === syscall && one.netns === netns)?.count ?? 0
  );
}

describe.skipIf(!canRun('connect-errors stream', { root: true, netns: true }))(
  'ConnectErrorStream in real namespaces',
  () => {
    let lab: NetnsLab;
    const streams: ConnectErrorStream[] = [];

    beforeAll(() => {
      lab = new NetnsLab('cerr');
      // Two exporters on one host: each has its own instance and sees every failure.
      streams.push(ConnectErrorStream.start(OPTIONS));
      streams.push(ConnectErrorStream.start(OPTIONS));
    });

    afterAll(async () => {
      for (const stream of streams) stream.close();
      await lab?.close();
    });

    it('counts per namespace exactly the failures its clients saw, in each of two instances', async () => {
      expect(streams[0]?.path).not.toBe(streams[1]?.path);
      const first = await runFailingCalls(lab, lab.addNamespace('a'), { connects: 3, binds: 2 });
      const second = await runFailingCalls(lab, lab.addNamespace('b'), { connects: 7, binds: 1 });
      try {
        for (const stream of streams) {
          stream.poll();
          for (const client of [first, second]) {
            const netns = String(client.nsInode);
            expect(countOf(stream, 'connect', netns)).toBe(client.outcomes.connect.EADDRNOTAVAIL);
            expect(countOf(stream, 'bind', netns)).toBe(client.outcomes.bind.EADDRINUSE);
          }
        }
        // The clients saw only these failures: nothing else to count.
        expect(Object.keys(first.outcomes.connect)).toEqual(['EADDRNOTAVAIL']);
        expect(Object.keys(second.outcomes.bind)).toEqual(['EADDRINUSE']);
        expect(streams[0]?.counts().lostEvents).toBe(0);
      } finally {
        await Promise.all([first.end(), second.end()]);
      }
    });

    it('counts the failures of a process gone before they were read as exited', async () => {
      const stream = streams[0] as ConnectErrorStream;
      stream.poll();
      const before = countOf(stream, 'connect', EXITED_NETNS);
      const client = await runFailingCalls(lab, lab.addNamespace('gone'), {
        connects: 4,
        binds: 0,
      });
      await client.end();
      stream.poll();
      // Other processes on the host may fail and exit meanwhile: at least these four.
      expect(countOf(stream, 'connect', EXITED_NETNS) - before).toBeGreaterThanOrEqual(
        client.outcomes.connect.EADDRNOTAVAIL ?? 0,
      );
      expect(countOf(stream, 'connect', String(client.nsInode))).toBe(0);
    });
  },
);
