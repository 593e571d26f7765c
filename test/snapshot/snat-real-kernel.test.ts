/**
 * The conntrack and snat sources against a real kernel's source NAT: pod → node
 * (masquerade) → remote namespaces, the node sampled by the engine from inside it and
 * compared with the flows that got through and with `conntrack -L` (netlink) around it.
 * Each rule of NAT port selection the collector relies on is confirmed here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SampleOptions, Snapshot } from '../../src/snapshot/model.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { sampleInNamespace } from '../../testkit/kernel/netns-sampler.js';
import {
  buildSnatLab,
  NAT,
  natFlows,
  REMOTE,
  REMOTE_PORTS,
  type SnatLab,
} from '../../testkit/kernel/snat-lab.js';

const CONNTRACK_ONLY: Partial<SampleOptions> = {
  sources: {
    sockets: false,
    sockstat: false,
    netstat: false,
    sysctl: false,
    conntrack: true,
    snat: true,
    udp: false,
  },
  snatTopDestinations: 10,
};

let lab: SnatLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

function sampleNode(snat: SnatLab): Snapshot {
  return sampleInNamespace(snat.lab, snat.node, CONNTRACK_ONLY);
}

/** Samples between two identical `conntrack -L` listings, so no flow changed meanwhile. */
function sampleWithOracle(snat: SnatLab): {
  snapshot: Snapshot;
  flows: ReturnType<typeof natFlows>;
} {
  for (let attempt = 1; ; attempt++) {
    const before = natFlows(snat.lab, snat.node);
    const snapshot = sampleNode(snat);
    const after = natFlows(snat.lab, snat.node);
    if (JSON.stringify(before) === JSON.stringify(after) || attempt === 3) {
      return { snapshot, flows: after };
    }
  }
}

function usedToward(snapshot: Snapshot, remotePort: number): number | undefined {
  return snapshot.snat?.destinations.find(
    (d) => d.remoteAddress === REMOTE && d.remotePort === remotePort && d.natAddress === NAT,
  )?.used;
}

const RANGE = 5;

/** One connection, held open. */
function holdOne(command: {
  group: string;
  host: string;
  port: number;
  localAddress?: string;
  localPort: number;
}) {
  const then = 'hold' as const;
  return { ...command, count: 1, then };
}

describe.skipIf(!canRun('SNAT real-kernel tests', { netns: true, commands: ['nft', 'conntrack'] }))(
  'source NAT on a real kernel',
  () => {
    it('counts the NAT ports each destination holds; a connect beyond the range fails and insert_failed rises', async () => {
      lab = await buildSnatLab(`ip protocol tcp masquerade to :40000-${40000 + RANGE - 1}`);
      const quiet = sampleNode(lab);
      expect(quiet.sources.conntrack?.success).toBe(true);
      const [first, second] = REMOTE_PORTS;
      const toFirst = await lab.podAgent.exhaust({
        group: 'a',
        host: REMOTE,
        port: first,
        max: RANGE + 3,
      });
      const toSecond = await lab.podAgent.exhaust({
        group: 'b',
        host: REMOTE,
        port: second,
        max: 2,
      });
      // The range is per destination: the first ran dry, the second still had every port.
      expect(toFirst).toEqual({ count: RANGE, error: 'ETIMEDOUT' });
      expect(toSecond).toEqual({ count: 2, error: 'max' });

      const { snapshot, flows } = sampleWithOracle(lab);
      for (const [port, got] of [
        [first, toFirst.count],
        [second, toSecond.count],
      ] as const) {
        const listed = flows.filter((flow) => flow.remotePort === port && flow.natAddress === NAT);
        expect(usedToward(snapshot, port)).toBe(got);
        expect(usedToward(snapshot, port)).toBe(listed.length);
        // Every flow holds its own port, all inside the rule's range.
        expect(new Set(listed.map((flow) => flow.natPort)).size).toBe(listed.length);
        for (const flow of listed) {
          expect(flow.natPort).toBeGreaterThanOrEqual(40000);
          expect(flow.natPort).toBeLessThan(40000 + RANGE);
        }
      }
      expect(snapshot.snat?.usable).toEqual({ ports: RANGE, source: 'rule' });
      expect(snapshot.snat?.usedMax).toBe(RANGE);
      expect(snapshot.conntrack?.entries).toBe(flows.length);
      const failedBefore = quiet.conntrack?.events.insert_failed ?? Number.NaN;
      expect(snapshot.conntrack?.events.insert_failed).toBeGreaterThan(failedBefore);
      expect(snapshot.conntrack?.events.drop).toBeGreaterThan(
        quiet.conntrack?.events.drop ?? Number.NaN,
      );
      expect(snapshot.conntrack?.limit).toBeGreaterThan(0);
    }, 60_000);

    it('fully-random picks within the range and still gets every port of it', async () => {
      lab = await buildSnatLab(
        `ip protocol tcp masquerade to :40000-${40000 + RANGE - 1} fully-random`,
      );
      const got = await lab.podAgent.exhaust({
        group: 'a',
        host: REMOTE,
        port: 8080,
        max: RANGE + 1,
      });
      expect(got).toEqual({ count: RANGE, error: 'ETIMEDOUT' });
      const { snapshot, flows } = sampleWithOracle(lab);
      expect(usedToward(snapshot, 8080)).toBe(RANGE);
      expect(flows.map((flow) => flow.natPort).sort()).toEqual([40000, 40001, 40002, 40003, 40004]);
    }, 60_000);

    it('without a range keeps the source port when free, else picks one in 1024-65535', async () => {
      lab = await buildSnatLab('masquerade');
      // The node itself holds NAT:45000 toward the remote, so the pod's port 45000 clashes.
      await lab.nodeAgent.connect(
        holdOne({
          group: 'n',
          host: REMOTE,
          port: 8080,
          localAddress: NAT,
          localPort: 45000,
        }),
      );
      await lab.podAgent.connect(
        holdOne({
          group: 'a',
          host: REMOTE,
          port: 8080,
          localPort: 45000,
        }),
      );
      await lab.podAgent.connect(
        holdOne({
          group: 'b',
          host: REMOTE,
          port: 8081,
          localPort: 45001,
        }),
      );
      const { snapshot, flows } = sampleWithOracle(lab);
      const [clashed] = flows.filter((flow) => flow.remotePort === 8080);
      const [kept] = flows.filter((flow) => flow.remotePort === 8081);
      expect(kept?.natPort).toBe(45001);
      expect(clashed?.natPort).not.toBe(45000);
      expect(clashed?.natPort).toBeGreaterThanOrEqual(1024);
      expect(usedToward(snapshot, 8080)).toBe(1);
      expect(usedToward(snapshot, 8081)).toBe(1);
      expect(snapshot.snat?.usable).toEqual({ ports: 64512, source: 'kernel_default' });
    }, 60_000);
  },
);
