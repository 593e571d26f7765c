/**
 * Real kernel: with the conntrack collector on, a round over the node's namespaces reads each
 * one's net/stat/nf_conntrack through /proc/<pid>. In the SNAT lab (testkit/kernel/snat-lab.ts)
 * the node namespace masquerades the pod's flows to 5 ports; after the pod runs one destination
 * dry, the round's figures for the node and the pod must equal what `conntrack -C` and
 * `conntrack -S` (netlink, not /proc) say inside each namespace, listed before and after the
 * round with the same result. With the collector off nothing is read.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsRoundSampler } from '../../src/snapshot/netns-round.js';
import type { NetnsRound } from '../../src/snapshot/netns-view.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';
import { runExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { buildSnatLab, REMOTE, type SnatLab } from '../../testkit/kernel/snat-lab.js';
import { samplesOf } from '../../testkit/prometheus/exposition.js';

const RANGE = 5;

/** Entries and the summed per-CPU drop counters, as conntrack's netlink interface lists them. */
function netlinkFigures(lab: SnatLab, ns: string) {
  const entries = Number(lab.lab.exec(ns, 'conntrack', ['-C']).trim());
  const stats = lab.lab.exec(ns, 'conntrack', ['-S']);
  const sum = (field: string) =>
    [...stats.matchAll(new RegExp(`\\b${field}=(\\d+)`, 'g'))].reduce(
      (total, match) => total + Number(match[1]),
      0,
    );
  return { entries, insert_failed: sum('insert_failed'), drop: sum('drop') };
}

describe.skipIf(
  !canRun('conntrack per namespace on a real kernel', {
    netns: true,
    commands: ['nft', 'conntrack'],
  }),
)('a netns round reads each namespace’s conntrack', () => {
  let lab: SnatLab;
  const sysctls = new NamespaceSysctlCache({ refreshMs: 60_000 });
  const round = (conntrack: boolean): Promise<NetnsRound> =>
    new NetnsRoundSampler(
      {
        procfsRoot: '/proc',
        podLogsDir: '/nonexistent',
        // Other tests' namespaces share the machine: room for all of them.
        max: 10_000,
        topDestinations: 1,
        walkMaxAgeMs: 0,
        walkUseRatio: 2,
        conntrack,
      },
      sysctls,
    ).run();

  beforeAll(async () => {
    lab = await buildSnatLab(`ip protocol tcp masquerade to :40000-${40000 + RANGE - 1}`);
    const got = await lab.podAgent.exhaust({
      group: 'a',
      host: REMOTE,
      port: 8080,
      max: RANGE + 1,
    });
    // One SYN beyond the range was dropped: insert_failed and drop rose in the node.
    expect(got).toEqual({ count: RANGE, error: 'ETIMEDOUT' });
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  });

  it('equals conntrack -C and -S inside the node and the pod, taken around the round', async () => {
    const namespaces = { node: lab.node, pod: lab.pod };
    const before = Object.fromEntries(
      Object.entries(namespaces).map(([role, ns]) => [role, netlinkFigures(lab, ns)]),
    );
    const { namespaces: samples } = await round(true);
    const after = Object.fromEntries(
      Object.entries(namespaces).map(([role, ns]) => [role, netlinkFigures(lab, ns)]),
    );
    expect(after).toEqual(before);
    // The refused flow never got an entry: the held ones alone.
    expect(before.node?.entries).toBe(RANGE);
    expect(before.node?.insert_failed).toBeGreaterThan(0);
    for (const [role, ns] of Object.entries(namespaces)) {
      const inode = statSync(`/run/netns/${ns}`).ino;
      const sample = samples.find((candidate) => candidate.inode === inode);
      const oracle = before[role];
      expect(sample?.conntrack, role).toEqual({
        entries: oracle?.entries,
        events: expect.objectContaining({
          insert_failed: oracle?.insert_failed,
          drop: oracle?.drop,
        }),
      });
    }
  }, 60_000);

  it("the exporter's conntrack families carry the node namespace's figures under its labels", async () => {
    const run = await runExporter([
      '--once',
      '--collector.netns',
      '--collector.netns.max=1000',
      '--collector.conntrack',
    ]);
    const netns = String(statSync(`/run/netns/${lab.node}`).ino);
    const entries = samplesOf(run.stdout, 'tcpstate_conntrack_entries').filter(
      (sample) => sample.labels.netns === netns,
    );
    expect(entries.map((sample) => sample.value)).toEqual([netlinkFigures(lab, lab.node).entries]);
    expect(Object.keys(entries[0]?.labels ?? {}).sort()).toEqual([
      'container',
      'namespace',
      'netns',
      'pod',
    ]);
  }, 60_000);

  it('reads nothing with the conntrack collector off', async () => {
    const { namespaces: samples } = await round(false);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.filter((sample) => sample.conntrack !== undefined)).toEqual([]);
  }, 60_000);
});
