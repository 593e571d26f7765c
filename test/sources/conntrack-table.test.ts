import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from '../../src/sources/address.js';
import { ConntrackTableReader } from '../../src/sources/conntrack-table.js';
import { SourceError } from '../../src/sources/kernel-files.js';
import { formatConntrackLine, snatFlow } from '../../testkit/kernel/conntrack-format.js';

/** Every destination the reader counted, as `protocol nat -> remote:port ×flows`, sorted. */
function counted(reader: ConntrackTableReader): string[] {
  const seen: string[] = [];
  for (let slot = 0; slot < reader.slots; slot++) {
    const flows = reader.countAt(slot);
    if (flows === 0) continue;
    const { protocol, ipv6, nat, remote, remotePort } = reader.destinationAt(slot);
    seen.push(
      ipv6
        ? `${protocol} [${formatIpv6(...nat)}] -> [${formatIpv6(...remote)}]:${remotePort} ×${flows}`
        : `${protocol} ${formatIpv4(nat[0])} -> ${formatIpv4(remote[0])}:${remotePort} ×${flows}`,
    );
  }
  expect(seen).toHaveLength(reader.destinations);
  return seen.sort();
}

function decode(
  text: string,
  chunk = Number.POSITIVE_INFINITY,
  reader = new ConntrackTableReader(),
) {
  const bytes = Buffer.from(text, 'latin1');
  let position = 0;
  const stats = reader.decode((buffer, offset, length) => {
    const count = Math.min(length, chunk, bytes.length - position);
    bytes.copy(buffer, offset, position, position + count);
    position += count;
    return count;
  });
  return { stats, seen: counted(reader) };
}

const NATED = formatConntrackLine(
  snatFlow('198.18.1.2', 59146, '198.18.2.2', 8080, '198.18.2.1', 40000),
);
/** Not NATed: the reply goes back to the original source address and port. */
const PLAIN = formatConntrackLine({
  original: { src: '198.18.2.1', dst: '198.18.2.2', sport: 5000, dport: 53 },
  reply: { src: '198.18.2.2', dst: '198.18.2.1', sport: 53, dport: 5000 },
  protocol: 'udp',
});
/** %pI6 prints every group in full. */
const NATED_V6 = formatConntrackLine(
  snatFlow(
    'fd00:0001:0000:0000:0000:0000:0000:0002',
    40001,
    'fd00:0002:0000:0000:0000:0000:0000:0002',
    443,
    'fd00:0002:0000:0000:0000:0000:0000:0001',
    1024,
    'udp',
  ),
);
const COUNTED_NATED = '6 198.18.2.1 -> 198.18.2.2:8080 ×1';

/** A NATed flow with its reply tuple's addresses replaced: NAT address `nat`, remote `remote`. */
function v6Line(nat: string, remote = 'fd00:2::2') {
  return formatConntrackLine(snatFlow('fd00:1::2', 40001, remote, 443, nat, 1024));
}

describe('ConntrackTableReader', () => {
  it('counts the source-NATed flows only, per destination and NAT address', () => {
    const { stats, seen } = decode(NATED + PLAIN + NATED_V6);
    expect(seen).toEqual(['17 [fd00:2::1] -> [fd00:2::2]:443 ×1', COUNTED_NATED]);
    expect(stats).toEqual({
      bytes: Buffer.byteLength(NATED + PLAIN + NATED_V6),
      lines: 3,
      malformed: 0,
      natted: 2,
    });
  });

  it('counts each flow of a destination, apart per protocol and NAT address', () => {
    const flow = (natPort: number, nat = '198.18.2.1', protocol: 'tcp' | 'udp' = 'tcp') =>
      formatConntrackLine(
        snatFlow('198.18.1.2', natPort, '198.18.2.2', 8080, nat, natPort, protocol),
      );
    const { seen } = decode(
      flow(1) + flow(2) + flow(3) + flow(4, '198.18.2.9') + flow(5, undefined, 'udp'),
    );
    expect(seen).toEqual([
      '17 198.18.2.1 -> 198.18.2.2:8080 ×1',
      '6 198.18.2.1 -> 198.18.2.2:8080 ×3',
      '6 198.18.2.9 -> 198.18.2.2:8080 ×1',
    ]);
  });

  it('counts a flow whose port alone was changed as NATed', () => {
    const line = formatConntrackLine({
      original: { src: '198.18.2.1', dst: '198.18.2.2', sport: 5000, dport: 80 },
      reply: { src: '198.18.2.2', dst: '198.18.2.1', sport: 80, dport: 5001 },
    });
    expect(decode(line).seen).toEqual(['6 198.18.2.1 -> 198.18.2.2:80 ×1']);
  });

  it('reads UNREPLIED, accounting fields and protocols without ports', () => {
    const unreplied = NATED.replace(' src=198.18.2.2', ' [UNREPLIED] src=198.18.2.2');
    const accounted = NATED.replace(' src=198.18.2.2', ' packets=3 bytes=180 src=198.18.2.2');
    const icmp =
      'ipv4     2 icmp     1 29 src=198.18.1.2 dst=198.18.2.2 type=8 code=0 id=7 src=198.18.2.2 dst=198.18.2.1 type=0 code=0 id=7 mark=0 zone=0 use=2\n';
    const { stats, seen } = decode(unreplied + accounted + icmp);
    expect(seen).toEqual(['6 198.18.2.1 -> 198.18.2.2:8080 ×2']);
    expect(stats.malformed).toBe(0);
    expect(stats.natted).toBe(2);
  });

  it('decodes the same across any read size (partial lines carried over)', () => {
    const text = (NATED + PLAIN + NATED_V6).repeat(50);
    const whole = decode(text);
    expect(whole.stats.natted).toBe(100);
    for (const chunk of [1, 7, 100, 4096]) expect(decode(text, chunk)).toEqual(whole);
  });

  it('skips a line longer than the buffer as one malformed line, and reads on', () => {
    const long = `${NATED.slice(0, -1)}${' x'.repeat(600_000)}\n`;
    const { stats, seen } = decode(NATED + long + NATED, 64 * 1024);
    expect(stats).toMatchObject({ lines: 3, malformed: 1, natted: 2 });
    expect(seen).toEqual(['6 198.18.2.1 -> 198.18.2.2:8080 ×2']);
  });

  it.each([
    ['a bad address', NATED.replace('dst=198.18.2.1', 'dst=198.18.2.x')],
    ['an octet above 255', NATED.replace('dst=198.18.2.1', 'dst=198.18.2.256')],
    ['a four-digit octet', NATED.replace('dst=198.18.2.1', 'dst=198.18.2.0001')],
    ['three octets', NATED.replace('dst=198.18.2.1', 'dst=198.18.2')],
    ['a port above 65535', NATED.replace('dport=40000', 'dport=70000')],
    ['a port with a letter', NATED.replace('sport=8080', 'sport=80a0')],
    ['an empty port', NATED.replace('dport=40000', 'dport=')],
    ['a protocol number that is not one', NATED.replace(' 6 117 ', ' 6x 117 ')],
    ['no reply tuple', `${NATED.slice(0, NATED.indexOf(' src=198.18.2.2'))}\n`],
    ['a reply tuple without ports', `${NATED.slice(0, NATED.indexOf(' sport=8080'))}\n`],
    ['fields out of order', NATED.replace('sport=8080 dport=40000', 'dport=40000 sport=8080')],
    [
      'a short IPv6 address',
      NATED_V6.replace('fd00:0002:0000:0000:0000:0000:0000:0001', 'fd00:2:1'),
    ],
    ['nine IPv6 groups', v6Line('fd00:2:0:0:0:0:0:1:1')],
    ['two IPv6 gaps', v6Line('fd00::2::1')],
    ['a five-digit IPv6 group', v6Line('fd00:12345::1')],
    ['an IPv6 address ending in one colon', v6Line('fd00:2::1:')],
    ['a triple colon', v6Line(':::1')],
    ['a non-hex IPv6 digit', v6Line('fd00:2::g')],
  ])('skips and counts a line with %s', (_name, line) => {
    const { stats, seen } = decode(PLAIN + line + NATED);
    expect(stats.lines).toBe(3);
    expect(stats.malformed).toBe(1);
    expect(seen).toEqual([COUNTED_NATED]);
  });

  it('counts a last line cut short as malformed', () => {
    const { stats, seen } = decode(NATED + NATED.slice(0, 60));
    expect(stats).toMatchObject({ lines: 2, malformed: 1, natted: 1 });
    expect(seen).toEqual([COUNTED_NATED]);
  });

  it.each([
    ['fd00::', '::1', '6 [fd00::] -> [::1]:443 ×1'],
    ['::', '::ffff:c612:202', '6 [::] -> [::ffff:c612:202]:443 ×1'],
    ['fd00:1::2', 'FD00:0:0:0:0:0:0:ABCD', '6 [fd00:1::2] -> [fd00::abcd]:443 ×1'],
    ['1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '6 [1:2:3:4:5:6:7:0] -> [0:2:3:4:5:6:7:8]:443 ×1'],
  ])('reads the IPv6 form %s (and %s)', (nat, remote, expected) => {
    expect(decode(v6Line(nat, remote)).seen).toEqual([expected]);
  });

  it('grows its table past its first size and counts every destination exactly', () => {
    const expected = new Map<string, number>();
    let text = '';
    for (let i = 0; i < 20_000; i++) {
      const destination = i % 9_000;
      const remote = `198.18.${destination >> 8}.${destination & 255}`;
      text += formatConntrackLine(snatFlow('198.18.1.2', 1, remote, 443, '198.18.2.1', i % 60000));
      const key = `6 198.18.2.1 -> ${remote}:443`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const reader = new ConntrackTableReader();
    const wanted = [...expected].map(([key, flows]) => `${key} ×${flows}`).sort();
    expect(decode(text, 64 * 1024, reader).seen).toEqual(wanted);
    expect(reader.slots).toBeGreaterThanOrEqual(2 * 9_000);
    // The next sample counts anew, in a table sized for the last one.
    expect(decode(NATED, undefined, reader).seen).toEqual([COUNTED_NATED]);
  });

  it('fails clearly past its cap of destinations, and counts again afterwards', () => {
    const reader = new ConntrackTableReader(undefined, 4096);
    const lines = (count: number) =>
      Array.from({ length: count }, (_, i) =>
        formatConntrackLine(snatFlow('198.18.1.2', 1, '198.18.2.2', 1 + i, '198.18.2.1', 2)),
      ).join('');
    expect(decode(lines(4096), undefined, reader).seen).toHaveLength(4096);
    expect(() => decode(lines(4097), undefined, reader)).toThrow(
      new SourceError(
        'cannot count the conntrack table: more than 4096 destinations hold NAT ports (the most counted, to bound memory)',
      ),
    );
    expect(decode(NATED, undefined, reader).seen).toEqual([COUNTED_NATED]);
  });
});
