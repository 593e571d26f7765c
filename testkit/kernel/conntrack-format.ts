/**
 * /proc/net/nf_conntrack lines as the kernel prints them (ct_seq_show): the original tuple,
 * then the reply tuple, for parser tests and the bench's synthetic tables.
 */
export interface ConntrackTuple {
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
}

export interface ConntrackFlow {
  readonly family?: 'ipv4' | 'ipv6';
  readonly protocol?: 'tcp' | 'udp';
  readonly original: ConntrackTuple;
  readonly reply: ConntrackTuple;
}

const PROTOCOL_NUMBERS = { tcp: 6, udp: 17 } as const;

function tuple(t: ConntrackTuple): string {
  return `src=${t.src} dst=${t.dst} sport=${t.sport} dport=${t.dport}`;
}

export function formatConntrackLine(flow: ConntrackFlow): string {
  const family = flow.family ?? 'ipv4';
  const protocol = flow.protocol ?? 'tcp';
  const l3 = family === 'ipv4' ? 2 : 10;
  const state = protocol === 'tcp' ? ' TIME_WAIT' : '';
  return `${family.padEnd(8)} ${l3} ${protocol.padEnd(8)} ${PROTOCOL_NUMBERS[protocol]} 117${state} ${tuple(flow.original)} ${tuple(flow.reply)} [ASSURED] mark=0 zone=0 use=2\n`;
}

/** A flow from `pod:podPort` to `remote:remotePort` that the node masqueraded to `nat:natPort`. */
export function snatFlow(
  pod: string,
  podPort: number,
  remote: string,
  remotePort: number,
  nat: string,
  natPort: number,
  protocol: 'tcp' | 'udp' = 'tcp',
): ConntrackFlow {
  return {
    family: pod.includes(':') ? 'ipv6' : 'ipv4',
    protocol,
    original: { src: pod, dst: remote, sport: podPort, dport: remotePort },
    reply: { src: remote, dst: nat, sport: remotePort, dport: natPort },
  };
}
