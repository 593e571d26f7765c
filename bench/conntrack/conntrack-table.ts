/**
 * Conntrack tables for the SNAT bench: a synthetic net/nf_conntrack file, and a real
 * table filled in the node of a pod → node (masquerade) → remote lab by UDP flows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatConntrackLine, snatFlow } from '../../testkit/kernel/conntrack-format.js';
import { buildSnatLab, REMOTE, type SnatLab } from '../../testkit/kernel/snat-lab.js';

/**
 * `entries` flows as a node masquerading pods would hold them: nine in ten NATed (TCP to
 * 200 destinations, some UDP), the rest the node's own. Lines as ct_seq_show prints them.
 */
export function writeSyntheticConntrack(root: string, entries: number): number {
  mkdirSync(join(root, 'net'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < entries; i++) {
    const pod = `10.244.${(i >> 8) & 255}.${i & 255}`;
    const remote = `198.18.${100 + ((i % 200) >> 4)}.${i % 16}`;
    const port = 1024 + (i % 64000);
    if (i % 10 === 9) {
      lines.push(
        formatConntrackLine({
          original: { src: '198.18.2.1', dst: remote, sport: port, dport: 443 },
          reply: { src: remote, dst: '198.18.2.1', sport: 443, dport: port },
        }),
      );
    } else {
      lines.push(
        formatConntrackLine(
          snatFlow(
            pod,
            40000 + (i % 20000),
            remote,
            443,
            '198.18.2.1',
            port,
            i % 7 === 0 ? 'udp' : 'tcp',
          ),
        ),
      );
    }
  }
  const text = lines.join('');
  writeFileSync(join(root, 'net/nf_conntrack'), text);
  return Buffer.byteLength(text);
}

/** UDP flows the pod sends, each from its own port pair: one entry each in the node. */
const SEND_FLOWS = `
const dgram = require('node:dgram');
const [count, host] = [Number(process.argv[1]), process.argv[2]];
const sockets = Array.from({ length: Math.ceil(count / 60000) }, () => dgram.createSocket('udp4'));
let sent = 0;
const next = () => {
  if (sent >= count) return Promise.all(sockets.map((s) => new Promise((r) => s.close(r))));
  const socket = sockets[Math.floor(sent / 60000)];
  const port = 1024 + (sent % 60000);
  sent++;
  return new Promise((r) => socket.send('x', port, host, r)).then(next);
};
Promise.all(sockets.map((s) => new Promise((r) => s.bind(0, r)))).then(next);
`;

/** A lab whose node tracks about `entries` NATed UDP flows, kept for 10 minutes. */
export async function fillRealConntrack(entries: number): Promise<SnatLab> {
  const lab = await buildSnatLab('masquerade');
  try {
    lab.lab.setSysctl(lab.node, 'net.netfilter.nf_conntrack_udp_timeout', '600');
    lab.lab.exec(lab.pod, process.execPath, ['-e', SEND_FLOWS, String(entries), REMOTE], {
      timeoutMs: 600_000,
    });
    return lab;
  } catch (error) {
    await lab.close();
    throw error;
  }
}
