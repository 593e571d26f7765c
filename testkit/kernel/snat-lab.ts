/**
 * A Kubernetes node's source NAT in three namespaces: pod (198.18.1.2) → node, which
 * forwards and masquerades out of its remote-side link (198.18.2.1) with the nft rule given
 * → remote (198.18.2.2), listening on REMOTE_PORTS. The pod gives up a connect() after one
 * SYN retry (~3 s) instead of ~2 min, so a refused flow fails fast.
 */
import { NetnsLab } from './netns.js';
import { SocketAgent } from './socket-scenario.js';

export const POD = '198.18.1.2';
export const NAT = '198.18.2.1';
export const REMOTE = '198.18.2.2';
export const REMOTE_PORTS = [8080, 8081] as const;

export interface SnatLab {
  readonly lab: NetnsLab;
  readonly pod: string;
  readonly node: string;
  readonly remote: string;
  readonly podAgent: SocketAgent;
  /** An agent in the node itself, for flows that start there. */
  readonly nodeAgent: SocketAgent;
  close(): Promise<void>;
}

/** `masquerade` is the nft statement, e.g. `masquerade to :40000-40004 fully-random`. */
export async function buildSnatLab(masquerade: string): Promise<SnatLab> {
  const lab = new NetnsLab('snat');
  try {
    const pod = lab.addNamespace('pod');
    const node = lab.addNamespace('node');
    const remote = lab.addNamespace('rem');
    lab.link(
      { ns: pod, device: 'eth0', addresses: [`${POD}/24`] },
      { ns: node, device: 'podlink', addresses: ['198.18.1.1/24'] },
    );
    lab.link(
      { ns: node, device: 'uplink', addresses: [`${NAT}/24`] },
      { ns: remote, device: 'eth0', addresses: [`${REMOTE}/24`] },
    );
    lab.ip(pod, ['route', 'add', 'default', 'via', '198.18.1.1']);
    lab.setSysctl(node, 'net.ipv4.ip_forward', '1');
    lab.setSysctl(pod, 'net.ipv4.tcp_syn_retries', '1');
    lab.exec(node, 'nft', ['-f', '-'], {
      input: `table ip nat {\n chain post {\n  type nat hook postrouting priority srcnat;\n  oifname "uplink" ${masquerade}\n }\n}\n`,
    });
    const remoteAgent = new SocketAgent(lab, remote);
    for (const port of REMOTE_PORTS) {
      await remoteAgent.listen({ name: `l${port}`, host: REMOTE, port, onAccept: 'hold' });
    }
    return {
      lab,
      pod,
      node,
      remote,
      podAgent: new SocketAgent(lab, pod),
      nodeAgent: new SocketAgent(lab, node),
      close: () => lab.close(),
    };
  } catch (error) {
    await lab.close();
    throw error;
  }
}

export interface ConntrackFlowLine {
  readonly protocol: string;
  readonly remotePort: number;
  readonly natAddress: string;
  readonly natPort: number;
}

/** The node's source-NATed flows as `conntrack -L --src-nat` (netlink, not /proc) lists them. */
export function natFlows(lab: NetnsLab, node: string): ConntrackFlowLine[] {
  const text = lab.exec(node, 'sh', ['-c', 'conntrack -L --src-nat 2>/dev/null']);
  return text
    .split('\n')
    .filter((line) => line.includes('src='))
    .map((line) => {
      const values = (key: string) =>
        [...line.matchAll(new RegExp(`\\b${key}=(\\S+)`, 'g'))].map((match) => match[1] as string);
      const [, replyDst] = values('dst');
      const [, replyDport] = values('dport');
      const [, replySport] = values('sport');
      return {
        protocol: line.split(/\s+/)[0] as string,
        remotePort: Number(replySport),
        natAddress: replyDst as string,
        natPort: Number(replyDport),
      };
    });
}
