/**
 * The conntrack families rendered from their part of a snapshot, the default plan, and
 * bad input (issue 25 item 5) through the exporter: no conntrack, a malformed stats file,
 * malformed and cut-short table lines.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { conntrackCollector } from '../../src/collectors/conntrack.js';
import { acrossNamespaces } from '../../src/collectors/namespace-labels.js';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { sampleOptionsFor } from '../../src/config/flags.js';
import type { Snapshot } from '../../src/snapshot/model.js';
import type { NamespaceSample } from '../../src/snapshot/netns-view.js';
import type { ConntrackStats } from '../../src/sources/conntrack-stats.js';
import { renderFamilies as render } from '../../testkit/exporter/collector-render.js';
import { parseLogLines, runExporter } from '../../testkit/exporter/exporter-cli.js';
import { MINIMAL_PROCFS, scratchProcfs } from '../../testkit/exporter/exporter-procfs.js';
import { formatConntrackLine, snatFlow } from '../../testkit/kernel/conntrack-format.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';

/** A namespace of the netns round: only what the conntrack families read of it. */
function namespaceWith(inode: number, conntrack?: NamespaceSample['conntrack']): NamespaceSample {
  const owner = { pod: 'web-1', namespace: 'shop', container: 'app', containerId: 'c0ffee' };
  return { inode, owner, ...(conntrack && { conntrack }) } as NamespaceSample;
}

describe('the conntrack collector', () => {
  const node: ConntrackStats = {
    entries: 7,
    limit: 262144,
    events: { insert_failed: 5, drop: 4 },
  };

  it('shows entries, the limit and the events the kernel printed, no others', async () => {
    const body = await render(conntrackCollector.metrics, node);
    expect(sampleValue(body, 'tcpstate_conntrack_entries', {})).toBe(7);
    expect(sampleValue(body, 'tcpstate_conntrack_entries_limit', {})).toBe(262144);
    expect(samplesOf(body, 'tcpstate_conntrack_events_total').map((s) => s.labels.event)).toEqual([
      'insert_failed',
      'drop',
    ]);
  });

  it("adds each namespace's entries and events under its labels; the one limit stays the node's", async () => {
    const namespaces = [
      namespaceWith(4026532001, { entries: 3, events: { insert_failed: 2, drop: 1 } }),
      namespaceWith(4026532002),
    ];
    const { select, selectNamespace } = conntrackCollector;
    if (selectNamespace === undefined) throw new Error('conntrack has no namespace figures');
    const families = conntrackCollector.metrics.map((definition) =>
      acrossNamespaces(definition, {
        node: select,
        namespace: selectNamespace,
        namespaces: () => namespaces,
      }),
    );
    const snapshot = { conntrack: node, netnsInode: 4026531840 } as unknown as Snapshot;
    const body = await render(families, snapshot);
    const labels = { netns: '4026532001', pod: 'web-1', namespace: 'shop', container: 'app' };
    expect(samplesOf(body, 'tcpstate_conntrack_entries')).toHaveLength(2);
    const host = { netns: '4026531840', pod: '', namespace: '', container: '' };
    expect(sampleValue(body, 'tcpstate_conntrack_entries', labels)).toBe(3);
    expect(sampleValue(body, 'tcpstate_conntrack_events_total', { ...labels, event: 'drop' })).toBe(
      1,
    );
    expect(sampleValue(body, 'tcpstate_conntrack_events_total', { ...host, event: 'drop' })).toBe(
      4,
    );
    expect(samplesOf(body, 'tcpstate_conntrack_entries_limit')).toHaveLength(1);
  });
});

describe('with the defaults', () => {
  it('reads neither conntrack file: both collectors are off and cost nothing', () => {
    const plan = sampleOptionsFor(DEFAULT_CONFIG).sources;
    expect(plan.conntrack).toBe(false);
    expect(plan.snat).toBe(false);
  });
});

const BOTH = ['--once', '--collector.conntrack', '--collector.snat'];
/** The minimal tree's socket series: present whatever conntrack does. */
const SOCKET_SERIES = 22;

describe('bad conntrack input, through the exporter', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('without conntrack (not loaded, or no procfs support) each collector says so once and exports nothing; the rest goes on', async () => {
    const run = await runExporter([...BOTH, `--path.procfs=${MINIMAL_PROCFS}`]);
    expect(run.code).toBe(1);
    expect(samplesOf(run.stdout, 'tcpstate_sockets')).toHaveLength(SOCKET_SERIES);
    expect(run.stdout).toContain('tcpstate_collector_success{collector="conntrack"} 0');
    expect(run.stdout).toContain('tcpstate_collector_success{collector="snat"} 0');
    expect(run.stdout).not.toMatch(/^tcpstate_(conntrack|snat)_/m);
    const logs = parseLogLines(run.stderr);
    expect(logs.map((line) => line.collector).sort()).toEqual(['conntrack', 'snat']);
    expect(logs.map((line) => String(line.error)).sort()).toEqual([
      `conntrack is absent: no ${join(MINIMAL_PROCFS, 'net/nf_conntrack')} (nf_conntrack not loaded, or built without procfs support)`,
      `conntrack is absent: no ${join(MINIMAL_PROCFS, 'net/stat/nf_conntrack')} (nf_conntrack not loaded, or built without procfs support)`,
    ]);
  });

  it('a malformed stats file fails conntrack alone; bad and cut-short table lines are skipped and counted, never guessed', async () => {
    const tree = scratchProcfs();
    cleanups.push(tree.remove);
    mkdirSync(join(tree.root, 'net/stat'), { recursive: true });
    writeFileSync(join(tree.root, 'net/stat/nf_conntrack'), 'entries drop\nzz 00000001\n');
    const flow = (port: number) =>
      formatConntrackLine(snatFlow('10.244.1.5', port, '198.18.3.3', 443, '198.18.2.1', port));
    const bad = flow(3).replace('dst=198.18.2.1', 'dst=198.18.2.x');
    writeFileSync(
      join(tree.root, 'net/nf_conntrack'),
      flow(1) + bad + flow(2) + flow(4).slice(0, 70),
    );
    // The usable count from the flag: the NAT rules listed would be the test host's.
    const run = await runExporter([
      ...BOTH,
      '--collector.snat.usable-ports=10',
      `--path.procfs=${tree.root}`,
    ]);
    expect(run.code).toBe(1);
    expect(samplesOf(run.stdout, 'tcpstate_sockets')).toHaveLength(SOCKET_SERIES);
    expect(run.stdout).toContain('tcpstate_collector_success{collector="conntrack"} 0');
    expect(run.stdout).toContain('tcpstate_collector_success{collector="snat"} 1');
    expect(run.stdout).not.toMatch(/^tcpstate_conntrack_/m);
    expect(sampleValue(run.stdout, 'tcpstate_snat_table_malformed_lines', {})).toBe(2);
    expect(samplesOf(run.stdout, 'tcpstate_snat_ports_used').map((s) => s.value)).toEqual([2]);
    const logs = parseLogLines(run.stderr);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'collector failed', collector: 'conntrack' }),
    ]);
    expect(String(logs[0]?.error)).toMatch(/net\/stat\/nf_conntrack.*not a hex counter/);
  });
});
