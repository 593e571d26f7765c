/**
 * The LAST_ACK caveat of the connect() model, counted in a network namespace: a client whose
 * server closed first and then closed its own side waits in LAST_ACK for the server's last
 * ACK; while that ACK is lost (an nft rule drops what reaches those ports) the socket keeps its port,
 * and connect() toward the same destination cannot take it (__inet_check_established finds
 * the 4-tuple taken; only TIME_WAIT may be reused). The engine counts those sockets in `used`,
 * and the connect()s that still succeed are the usable ports minus them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { sampleInNamespace } from '../../testkit/kernel/netns-sampler.js';
import { SocketAgent, waitForSs } from '../../testkit/kernel/socket-scenario.js';
import type { SsSocket } from '../../testkit/kernel/ss-oracle.js';

const SERVER = '198.18.0.1';
const CLIENT = '198.18.0.2';
const PORT = 9000;
const LOW = 40000;
const SIZE = 20;
const STUCK = 5;
/** Connections are kept open by the client's agent. */
const then = 'hold' as const;

describe.skipIf(!canRun('LAST_ACK vs connect()', { netns: true, commands: ['ss', 'nft'] }))(
  'a socket in LAST_ACK',
  () => {
    const lab = new NetnsLab('tla');
    let client = '';
    let server = '';
    let clientAgent: SocketAgent;
    let serverAgent: SocketAgent;

    beforeAll(async () => {
      server = lab.addNamespace('srv');
      client = lab.addNamespace('cli');
      lab.link(
        { ns: client, device: 'veth0', addresses: [`${CLIENT}/24`] },
        { ns: server, device: 'veth0', addresses: [`${SERVER}/24`] },
      );
      lab.setSysctl(client, 'net.ipv4.ip_local_port_range', `${LOW} ${LOW + SIZE - 1}`);
      serverAgent = new SocketAgent(lab, server);
      clientAgent = new SocketAgent(lab, client);
      await serverAgent.listen({ name: 'svc', host: SERVER, port: PORT, onAccept: 'closeFirst' });
    });
    afterAll(() => lab.close());

    const toServer = (list: SsSocket[], state: string) =>
      list.filter((s) => s.state === state && s.remotePort === PORT).length;

    it('keeps its port: connect() to the same destination gets the others only', async () => {
      await clientAgent.connect({
        group: 'closed',
        host: SERVER,
        port: PORT,
        count: STUCK,
        then,
      });
      // The server closed first: the client holds its sockets in CLOSE_WAIT.
      await waitForSs(lab, client, (list) =>
        toServer(list, 'close_wait') === STUCK ? [] : ['CLOSE_WAIT not all there yet'],
      );
      // The server's ACK of the client's FIN is lost from now on, for these ports only.
      const ports = (await waitForSs(lab, client, () => []))
        .filter((s) => s.state === 'close_wait' && s.remotePort === PORT)
        .map((s) => s.localPort);
      lab.exec(client, 'nft', ['-f', '-'], {
        input: `table inet lastack {\n  chain input {\n    type filter hook input priority 0;\n    tcp sport ${PORT} tcp dport { ${ports.join(', ')} } drop\n  }\n}\n`,
      });
      await clientAgent.drop('closed');
      const sockets = await waitForSs(lab, client, (list) =>
        toServer(list, 'last_ack') === STUCK ? [] : ['LAST_ACK not all there yet'],
      );
      expect(toServer(sockets, 'last_ack')).toBe(STUCK);

      const snapshot = sampleInNamespace(lab, client);
      const ephemeral = snapshot.sockets?.ephemeral;
      const toward = ephemeral?.destinations.find(
        (d) => d.remoteAddress === SERVER && d.remotePort === PORT,
      );
      expect(ephemeral?.usable).toBe(SIZE);
      expect(toward?.used).toBe(STUCK);

      // Plain connect()s to the same destination, each held by a server that no longer closes
      // first (a new agent; the old one's sockets are the kernel's now), until EADDRNOTAVAIL.
      process.kill(serverAgent.pid, 'SIGKILL');
      const holding = new SocketAgent(lab, server);
      await holding.listen({ name: 'svc', host: SERVER, port: PORT, onAccept: 'hold' });
      const outcome = await clientAgent.exhaust({
        group: 'more',
        host: SERVER,
        port: PORT,
        max: 50,
      });
      expect(outcome.error).toContain('EADDRNOTAVAIL');
      expect(outcome.count).toBe(SIZE - STUCK);
      expect(outcome.count).toBe((ephemeral?.usable ?? 0) - (toward?.used ?? 0));
      // Still waiting for their last ACK: nothing else freed the ports.
      const after = await waitForSs(lab, client, () => []);
      expect(toServer(after, 'last_ack')).toBe(STUCK);
    });
  },
);
