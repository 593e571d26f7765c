import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/doctor/analyse.js';
import { snatPortsLow } from '../../../src/doctor/checks/snat-ports-low.js';
import { SNAT_USE_CRITICAL_RATIO, SNAT_USE_WARNING_RATIO } from '../../../src/doctor/thresholds.js';
import type { Snapshot } from '../../../src/snapshot/model.js';
import { analyseCase, only, reliefLines, sampleTree } from '../../../testkit/doctor/check-runs.js';
import {
  FIXTURE_WINDOW_SECONDS,
  SNAT_USABLE,
  snatTree,
} from '../../../testkit/doctor/doctor-fixtures.js';

const checks = [snatPortsLow];
const warningFlows = Math.ceil(SNAT_USABLE * SNAT_USE_WARNING_RATIO);

/** The snapshot with conntrack's drop counters set as given. */
function withDrops(snapshot: Snapshot, insertFailed: number, drop: number): Snapshot {
  const conntrack = snapshot.conntrack;
  if (conntrack === undefined) throw new Error('the tree has no conntrack stats');
  return {
    ...snapshot,
    conntrack: { ...conntrack, events: { ...conntrack.events, insert_failed: insertFailed, drop } },
  };
}

describe('snat-ports-low', () => {
  it("counts a destination's NATed flows against the usable ports, not the node's own flows", () => {
    const { findings } = analyseCase('snat-ports-low.trigger', FIXTURE_WINDOW_SECONDS, checks);
    const finding = only(findings, 'snat-ports-low');
    expect(finding.severity).toBe('warning');
    expect(finding.evidence).toMatchObject({
      natAddress: '198.18.2.1',
      remoteAddress: '198.18.3.3',
      remotePort: 443,
      protocol: 'tcp',
      used: warningFlows,
      usable: SNAT_USABLE,
      usableSource: 'flag',
    });
    expect(finding.summary).toContain(`${warningFlows} of ${SNAT_USABLE} NAT ports`);
    const fix = finding.fix.map((step) => step.step).join('\n');
    expect(fix).toMatch(/keep-alive/);
    expect(fix).toMatch(/more egress addresses/);
    expect(fix).toMatch(/random-fully[^\n]*adds none/);
    expect(fix).toMatch(/Do not widen the pods' ip_local_port_range/);
  });

  it('is critical from 80 % of the usable ports', () => {
    const snapshot = sampleTree(
      snatTree(Math.ceil(SNAT_USABLE * SNAT_USE_CRITICAL_RATIO)),
      String(SNAT_USABLE),
    );
    expect(only(analyse(snapshot, snapshot, 0, checks).findings, 'snat-ports-low').severity).toBe(
      'critical',
    );
  });

  it('cites the insert_failed and drop rises of the window', () => {
    const base = sampleTree(snatTree(warningFlows), String(SNAT_USABLE));
    const { findings } = analyse(withDrops(base, 3, 4), withDrops(base, 10, 14), 2, checks);
    const finding = only(findings, 'snat-ports-low');
    expect(finding.evidence).toMatchObject({
      'conntrack.insert_failed.delta': 7,
      'conntrack.drop.delta': 10,
    });
    expect(finding.explanation).toMatch(/SYNs are being dropped now/);
  });

  it('offers to widen a narrow rule range only when the range came from the rule', () => {
    const [observed] = snatPortsLow.observe({
      first: sampleTree(snatTree(warningFlows), String(SNAT_USABLE)),
      second: sampleTree(snatTree(warningFlows), String(SNAT_USABLE)),
      windowSeconds: 0,
      sockets: undefined,
      sysctl: {},
    });
    if (observed === undefined) throw new Error('no observation');
    const widen = (source: 'rule' | 'flag') =>
      (snatPortsLow.stopTheBleeding?.({ ...observed, source }) ?? []).some((step) =>
        step.step.startsWith('Widen the port range'),
      );
    expect(widen('rule')).toBe(true);
    expect(widen('flag')).toBe(false);
    const finding = only(
      analyse(
        sampleTree(snatTree(warningFlows), String(SNAT_USABLE)),
        sampleTree(snatTree(warningFlows), String(SNAT_USABLE)),
        0,
        checks,
      ).findings,
      'snat-ports-low',
    );
    expect(reliefLines(finding).join('\n')).toContain(
      'conntrack -L -p tcp --reply-src 198.18.3.3 --reply-port-src 443 --reply-dst 198.18.2.1',
    );
  });

  it('is skipped, naming the flag, when the NAT rules could not be read', () => {
    const base = sampleTree(snatTree(warningFlows), String(SNAT_USABLE));
    const snat = base.snat;
    if (snat === undefined) throw new Error('the tree has no NAT table');
    const { usable: _usable, ...rest } = snat;
    const blind = { ...base, snat: { ...rest, usableError: 'nft: not permitted' } };
    expect(analyse(blind, blind, 0, checks)).toMatchObject({
      findings: [],
      skipped: [
        {
          id: 'snat-ports-low',
          reason: expect.stringMatching(/nft: not permitted.*--collector\.snat\.usable-ports/),
        },
      ],
    });
  });

  it('is skipped, naming the file, when the table could not be read', () => {
    const base = sampleTree(snatTree(warningFlows), String(SNAT_USABLE));
    const { snat: _snat, ...rest } = base;
    const failed: Snapshot = {
      ...rest,
      sources: {
        ...base.sources,
        snat: { success: false, durationSeconds: 0, error: 'cannot read net/nf_conntrack: EACCES' },
      },
    };
    const { skipped } = analyse(failed, failed, 0, checks);
    expect(skipped).toEqual([
      {
        id: 'snat-ports-low',
        reason: expect.stringMatching(/net\/nf_conntrack unreadable: .*EACCES/),
      },
    ]);
  });

  it('finds nothing and skips nothing without a conntrack table', () => {
    const snapshot = sampleTree({});
    expect(snapshot.sources.snat).toBeUndefined();
    expect(analyse(snapshot, snapshot, 0, checks)).toMatchObject({ findings: [], skipped: [] });
  });
});
