import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSampleOptions } from '../../src/config/defaults.js';
import {
  NAT_RULES_REFRESH_MS,
  readSnatPorts,
  usablePorts,
} from '../../src/snapshot/snat-accumulator.js';
import { SourceError } from '../../src/sources/kernel-files.js';
import { KERNEL_DEFAULT_NAT_PORTS, type NatRules } from '../../src/sources/nat-rules.js';
import { TcpTableReader } from '../../src/sources/tcp-table.js';
import { formatConntrackLine, snatFlow } from '../../testkit/kernel/conntrack-format.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function procfsWithTable(lines: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'snat-'));
  roots.push(root);
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net/nf_conntrack'), lines.join(''));
  return root;
}

/** `count` flows from pod ports to one destination, NATed to consecutive ports. */
function flows(count: number, remote: string, remotePort: number, protocol: 'tcp' | 'udp' = 'tcp') {
  return Array.from({ length: count }, (_, i) =>
    formatConntrackLine(
      snatFlow('198.18.1.2', 30000 + i, remote, remotePort, '198.18.2.1', 40000 + i, protocol),
    ),
  );
}

const TEN_PORTS: NatRules = { rules: 1, ranges: [{ low: 40000, high: 40009 }] };

describe('readSnatPorts', () => {
  it('counts ports per destination, keeps the top ones and sums the rest', () => {
    const root = procfsWithTable([
      ...flows(3, '198.18.2.2', 8080),
      ...flows(5, '198.18.2.3', 443),
      ...flows(2, '198.18.2.3', 443, 'udp'),
      ...flows(1, '198.18.2.4', 80),
    ]);
    const options = { ...defaultSampleOptions(root), snatTopDestinations: 2 };
    const ports = readSnatPorts({ options, tables: new TcpTableReader() }, () => TEN_PORTS);
    expect(ports.destinations).toEqual([
      {
        natAddress: '198.18.2.1',
        remoteAddress: '198.18.2.3',
        remotePort: 443,
        protocol: 'tcp',
        used: 5,
      },
      {
        natAddress: '198.18.2.1',
        remoteAddress: '198.18.2.2',
        remotePort: 8080,
        protocol: 'tcp',
        used: 3,
      },
    ]);
    expect(ports).toMatchObject({
      otherDestinations: 2,
      otherUsed: 3,
      usedMax: 5,
      usable: { ports: 10, source: 'rule' },
      table: { lines: 11, malformed: 0, natted: 11 },
    });
  });

  it('lists the NAT rules once per refresh interval, not per sample', () => {
    const root = procfsWithTable(flows(1, '198.18.2.2', 8080));
    const context = { options: defaultSampleOptions(root), tables: new TcpTableReader() };
    let listed = 0;
    const rules = () => {
      listed++;
      return TEN_PORTS;
    };
    readSnatPorts(context, rules, 1_000);
    readSnatPorts(context, rules, 1_000 + NAT_RULES_REFRESH_MS - 1);
    expect(listed).toBe(1);
    readSnatPorts(context, rules, 1_000 + NAT_RULES_REFRESH_MS);
    expect(listed).toBe(2);
  });

  it('fails with the path when the table is absent', () => {
    const root = mkdtempSync(join(tmpdir(), 'snat-'));
    roots.push(root);
    const context = { options: defaultSampleOptions(root), tables: new TcpTableReader() };
    expect(() => readSnatPorts(context, () => TEN_PORTS)).toThrow(
      /conntrack is absent: no .*nf_conntrack/,
    );
  });
});

describe('usablePorts', () => {
  it('takes the flag first, then the narrowest rule range, then the kernel default', () => {
    const rules = {
      rules: 2,
      ranges: [
        { low: 40000, high: 40099 },
        { low: 1, high: 10 },
      ],
    };
    expect(usablePorts('77', () => rules)).toEqual({ usable: { ports: 77, source: 'flag' } });
    expect(usablePorts('', () => rules)).toEqual({ usable: { ports: 10, source: 'rule' } });
    expect(usablePorts('', () => ({ rules: 1, ranges: [] }))).toEqual({
      usable: { ports: KERNEL_DEFAULT_NAT_PORTS, source: 'kernel_default' },
    });
  });

  it('gives no usable count, only the reason, when the rules cannot be read', () => {
    const unreadable = () => {
      throw new SourceError('cannot read the NAT ruleset: nft -j list ruleset failed');
    };
    expect(usablePorts('', unreadable)).toEqual({
      usableError: 'cannot read the NAT ruleset: nft -j list ruleset failed',
    });
  });
});
