import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from '../../src/sources/address.js';
import { ConntrackTableReader, type SnatSink } from '../../src/sources/conntrack-table.js';
import { formatConntrackLine, snatFlow } from '../../testkit/kernel/conntrack-format.js';

/** Records each NATed flow as `protocol nat:port -> remote:port`. */
class RecordingSink implements SnatSink {
  readonly seen: string[] = [];
  addIpv4(protocol: number, nat: number, natPort: number, remote: number, remotePort: number) {
    this.seen.push(
      `${protocol} ${formatIpv4(nat)}:${natPort} -> ${formatIpv4(remote)}:${remotePort}`,
    );
  }
  addIpv6(protocol: number, words: Int32Array, natPort: number, remotePort: number) {
    const nat = formatIpv6(words[0] ?? 0, words[1] ?? 0, words[2] ?? 0, words[3] ?? 0);
    const remote = formatIpv6(words[4] ?? 0, words[5] ?? 0, words[6] ?? 0, words[7] ?? 0);
    this.seen.push(`${protocol} [${nat}]:${natPort} -> [${remote}]:${remotePort}`);
  }
}

function decode(text: string, chunk = Number.POSITIVE_INFINITY) {
  const bytes = Buffer.from(text, 'latin1');
  const sink = new RecordingSink();
  let position = 0;
  const stats = new ConntrackTableReader().decode((buffer, offset, length) => {
    const count = Math.min(length, chunk, bytes.length - position);
    bytes.copy(buffer, offset, position, position + count);
    position += count;
    return count;
  }, sink);
  return { stats, seen: sink.seen };
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

describe('ConntrackTableReader', () => {
  it('hands over the source-NATed flows only, with the NAT address and port they hold', () => {
    const { stats, seen } = decode(NATED + PLAIN + NATED_V6);
    expect(seen).toEqual([
      '6 198.18.2.1:40000 -> 198.18.2.2:8080',
      '17 [fd00:2::1]:1024 -> [fd00:2::2]:443',
    ]);
    expect(stats).toEqual({
      bytes: Buffer.byteLength(NATED + PLAIN + NATED_V6),
      lines: 3,
      malformed: 0,
      natted: 2,
    });
  });

  it('counts a flow whose port alone was changed as NATed', () => {
    const line = formatConntrackLine({
      original: { src: '198.18.2.1', dst: '198.18.2.2', sport: 5000, dport: 80 },
      reply: { src: '198.18.2.2', dst: '198.18.2.1', sport: 80, dport: 5001 },
    });
    expect(decode(line).seen).toEqual(['6 198.18.2.1:5001 -> 198.18.2.2:80']);
  });

  it('reads UNREPLIED, accounting fields and protocols without ports', () => {
    const unreplied = NATED.replace(' src=198.18.2.2', ' [UNREPLIED] src=198.18.2.2');
    const accounted = NATED.replace(' src=198.18.2.2', ' packets=3 bytes=180 src=198.18.2.2');
    const icmp =
      'ipv4     2 icmp     1 29 src=198.18.1.2 dst=198.18.2.2 type=8 code=0 id=7 src=198.18.2.2 dst=198.18.2.1 type=0 code=0 id=7 mark=0 zone=0 use=2\n';
    const { stats, seen } = decode(unreplied + accounted + icmp);
    expect(seen).toHaveLength(2);
    expect(stats.malformed).toBe(0);
    expect(stats.natted).toBe(2);
  });

  it('decodes the same across any read size (partial lines carried over)', () => {
    const text = (NATED + PLAIN + NATED_V6).repeat(50);
    const whole = decode(text);
    for (const chunk of [1, 7, 100, 4096]) expect(decode(text, chunk)).toEqual(whole);
  });

  it.each([
    ['a bad address', NATED.replace('dst=198.18.2.1', 'dst=198.18.2.x')],
    ['an octet above 255', NATED.replace('dst=198.18.2.1', 'dst=198.18.2.256')],
    ['a port above 65535', NATED.replace('dport=40000', 'dport=70000')],
    ['no reply tuple', `${NATED.slice(0, NATED.indexOf(' src=198.18.2.2'))}\n`],
    [
      'a short IPv6 address',
      NATED_V6.replace('fd00:0002:0000:0000:0000:0000:0000:0001', 'fd00:2:1'),
    ],
  ])('skips and counts a line with %s', (_name, line) => {
    const { stats, seen } = decode(PLAIN + line + NATED);
    expect(stats.lines).toBe(3);
    expect(stats.malformed).toBe(1);
    expect(seen).toEqual(['6 198.18.2.1:40000 -> 198.18.2.2:8080']);
  });

  it('counts a last line cut short as malformed', () => {
    const { stats, seen } = decode(NATED + NATED.slice(0, 60));
    expect(stats).toMatchObject({ lines: 2, malformed: 1, natted: 1 });
    expect(seen).toHaveLength(1);
  });

  it('reads compressed IPv6 addresses too', () => {
    const line = formatConntrackLine(snatFlow('fd00:1::2', 1, '::1', 2, 'fd00::', 3));
    expect(decode(line).seen).toEqual(['6 [fd00::]:3 -> [::1]:2']);
  });
});
