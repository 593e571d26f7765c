/**
 * The registry is the one place a collector is listed: flags, --help, the README table, the
 * sample plan and the statuses all come from it. A fake collector added to a list proves
 * that adding one touches its own file and one registry line (docs/architecture.md).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withFlagTable } from '../../scripts/readme-flags.js';
import { parseFlags } from '../../src/cli/flag-parser.js';
import { formatHelp } from '../../src/cli/help.js';
import { defineCollector, labelled } from '../../src/collectors/collector.js';
import { collectorSet } from '../../src/collectors/collector-set.js';
import { COLLECTOR_NAMES, COLLECTORS, REGISTRY } from '../../src/collectors/registry.js';
import { EXPORTER_FLAGS, EXPORTER_HELP, exporterFlags } from '../../src/config/flags.js';
import { ENGINE_SOURCES, isEngineSource } from '../../src/snapshot/source-readers.js';
import type { Sockstat } from '../../src/sources/sockstat.js';
import { REPO_ROOT } from '../../testkit/exporter/exporter-cli.js';
import { sampleProcfs } from '../../testkit/exporter/exporter-snapshots.js';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/all-states/proc');

/** A collector as a contributor would write it in src/collectors/sockstat6.ts. */
const sockstat6Collector = defineCollector({
  name: 'sockstat6',
  help: 'IPv6 socket totals from net/sockstat6.',
  enabledByDefault: false,
  sources: [ENGINE_SOURCES.sockstat],
  flags: {
    sockstat6Kinds: {
      name: 'collector.sockstat6.kinds',
      kind: 'positiveInteger',
      default: 7,
      max: 100,
      maxReason: 'each kind adds a series',
      help: 'Kinds reported.',
    },
  },
  select: (snapshot): Sockstat['ipv6'] => snapshot.sockstat?.ipv6,
  metrics: [
    {
      name: 'tcpstate_sockstat6_inuse',
      help: 'IPv6 TCP sockets in use.',
      type: 'gauge',
      values: (fields) => [labelled(fields?.inuse ?? 0)],
    },
  ],
});

/** The registry's list plus one line. */
const WITH_FAKE = collectorSet([...COLLECTORS, sockstat6Collector]);

describe('the collector registry', () => {
  it('lists every collector once, each reading a source of the engine or timing its own data', () => {
    expect(COLLECTOR_NAMES).toEqual([
      'sockets',
      'ports',
      'ephemeral',
      'sockstat',
      'netstat',
      'sysctl',
      'netns',
      'conntrack',
      'snat',
      'connect-errors',
    ]);
    for (const collector of COLLECTORS) {
      // netns and connect-errors read no source of the node's sample: each times its own data.
      if (collector.durationSeconds === undefined)
        expect(collector.sources.some(isEngineSource)).toBe(true);
    }
  });

  it('gives every flag a distinct name, each collector switch as --collector.<name>', () => {
    const names = Object.values(EXPORTER_FLAGS).map((spec) => spec.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of COLLECTOR_NAMES) expect(names).toContain(`collector.${name}`);
    // A collector's own flags are its options, or a path it reads (`path.<what>`).
    for (const collector of COLLECTORS) {
      for (const spec of Object.values(collector.flags)) {
        expect(spec.name).toMatch(new RegExp(`^(collector\\.${collector.name}\\.|path\\.)`));
      }
    }
  });

  it('gives every metric family a distinct tcpstate_ name', () => {
    const families = COLLECTORS.flatMap((collector) =>
      collector.metrics.map((metric) => metric.name),
    );
    expect(new Set(families).size).toBe(families.length);
    for (const family of families) expect(family).toMatch(/^tcpstate_[a-z0-9_]+$/);
  });

  it('reads a source only when an enabled collector needs it', () => {
    const off = Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, false])) as Record<
      (typeof COLLECTOR_NAMES)[number],
      boolean
    >;
    expect(REGISTRY.sourcePlan(off)).toEqual({
      sockets: false,
      sockstat: false,
      netstat: false,
      sysctl: false,
      conntrack: false,
      snat: false,
      udp: false,
    });
    // A source that is not the engine's (the netns rounds, the sockstat fast readings) is not read by the sample.
    expect(REGISTRY.sourcePlan({ ...off, netns: true, 'connect-errors': true })).toEqual(
      REGISTRY.sourcePlan(off),
    );
    // Nor does the node sample decide their health: the rounds and the stream come apart.
    const on = Object.fromEntries(COLLECTOR_NAMES.map((name) => [name, true])) as typeof off;
    expect(REGISTRY.sampled(on)).toEqual({ ...on, netns: false, 'connect-errors': false });
    expect(REGISTRY.sampled({ ...off, sockstat: true })).toEqual({ ...off, sockstat: true });
    expect(REGISTRY.sourcePlan({ ...off, ports: true })).toEqual({
      sockets: true,
      sockstat: false,
      netstat: false,
      sysctl: false,
      conntrack: false,
      snat: false,
      udp: false,
    });
  });
});

describe('adding a collector: its file and one registry line', () => {
  const flags = exporterFlags(WITH_FAKE);

  it('adds its switch and its own flags to the flag table, parsed with their limits', () => {
    const parsed = parseFlags(flags, ['--collector.sockstat6', '--collector.sockstat6.kinds=5']);
    if (!parsed.ok) throw parsed.error;
    expect(WITH_FAKE.enabled(parsed.values).sockstat6).toBe(true);
    expect(parsed.values.sockstat6Kinds).toBe(5);
    const defaults = parseFlags(flags, []);
    if (!defaults.ok) throw defaults.error;
    expect(WITH_FAKE.enabled(defaults.values).sockstat6).toBe(false);
    expect(defaults.values.sockstat6Kinds).toBe(7);
    const tooMany = parseFlags(flags, ['--collector.sockstat6.kinds=101']);
    expect(tooMany.ok ? '' : tooMany.error.message).toMatch(
      /--collector.sockstat6.kinds: .*at most 100/,
    );
  });

  it('shows them in --help and in the README table, after the other collectors', () => {
    const help = formatHelp(flags, EXPORTER_HELP);
    expect(help).toMatch(/--collector\.sockstat6 +IPv6 socket totals/);
    expect(help).toContain('--collector.sockstat6.kinds=N');
    expect(help.indexOf('--[no-]collector.sysctl')).toBeLessThan(
      help.indexOf('--collector.sockstat6 '),
    );
    const readme = withFlagTable(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), flags);
    expect(readme).toContain(
      '| `--collector.sockstat6` |  | IPv6 socket totals from net/sockstat6. |',
    );
    expect(readme).toContain('| `--collector.sockstat6.kinds=N` | `7` |');
  });

  it('puts its sources in the sample plan and reports its status', () => {
    const enabled = { ...REGISTRY.enabled(parseDefaults()), sockstat6: true, sockstat: false };
    const plan = WITH_FAKE.sourcePlan(enabled);
    expect(plan.sockstat).toBe(true);
    const snapshot = sampleProcfs({ procfsRoot: FIXTURE, sources: plan });
    const status = WITH_FAKE.statuses(snapshot, enabled).find(
      (entry) => entry.name === 'sockstat6',
    );
    expect(status).toMatchObject({ name: 'sockstat6', success: true });
    const alone = WITH_FAKE.sourcePlan({
      ...Object.fromEntries(WITH_FAKE.names.map((name) => [name, false])),
      sockstat6: true,
    } as typeof enabled);
    expect(alone).toEqual({
      sockets: false,
      sockstat: true,
      netstat: false,
      sysctl: false,
      conntrack: false,
      snat: false,
      udp: false,
    });
  });
});

function parseDefaults() {
  const parsed = parseFlags(EXPORTER_FLAGS, []);
  if (!parsed.ok) throw parsed.error;
  return parsed.values;
}
