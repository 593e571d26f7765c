/**
 * Real kernel: a round over the node's namespaces finds the test's namespaces through
 * /proc, each with the socket counts `ss` shows inside it at the same moment, its own port
 * range and TIME_WAIT reuse applied to the connect() model, and the owner its process's
 * cgroup (laid out as the kubelet or Docker lays it out) and the pod-logs tree name. A
 * namespace whose only process exits between discovery and reading fails alone.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Family, TcpState } from '../../src/snapshot/model.js';
import { NetnsRoundSampler } from '../../src/snapshot/netns-round.js';
import type { NamespaceSample, NetnsRound } from '../../src/snapshot/netns-view.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';
import { runExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  type ContainerSpec,
  cgroupfsPodPath,
  cgroupV2Root,
  dockerPath,
  newContainer,
  newPod,
  OwnerLab,
  type PodSpec,
  systemdPodPath,
} from '../../testkit/kernel/kubelet-owners.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { protectTimeWait, SocketAgent } from '../../testkit/kernel/socket-scenario.js';
import {
  ephemeralUse,
  familyStateCounts,
  parsePortRange,
  parseSs,
  type SsSocket,
  ssInNamespace,
} from '../../testkit/kernel/ss-oracle.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';
import { waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

const SERVER = '198.18.0.1';
const SERVICE_PORT = 9000;

interface Tenant {
  readonly role: string;
  readonly range: string;
  readonly twReuse: string;
  readonly closed: number;
  readonly held: number;
}

/** Different port ranges (even sizes) and reuse per namespace; reuse 1 with a 1 ms delay makes every TIME_WAIT reusable. */
const TENANTS: readonly Tenant[] = [
  { role: 'web', range: '40000 40031', twReuse: '0', closed: 10, held: 4 },
  { role: 'api', range: '41000 41019', twReuse: '1', closed: 8, held: 3 },
  { role: 'compose', range: '42000 42099', twReuse: '2', closed: 5, held: 2 },
];

interface Expected {
  readonly ns: string;
  readonly inode: number;
  readonly owner: { pod: string; namespace: string; container: string; containerId: string };
  readonly process: string;
}

function namespaceInode(ns: string): number {
  return statSync(`/run/netns/${ns}`).ino;
}

/** The connect() model's figures the slow way from `ss`, with this namespace's reuse setting. */
function oracle(lab: NetnsLab, ns: string, sockets: readonly SsSocket[]) {
  const range = parsePortRange(lab.readSysctl(ns, 'net.ipv4.ip_local_port_range'));
  // Reuse 1 with a 1 ms delay and timestamps on: every TIME_WAIT toward any address is reusable.
  const reusable = lab.readSysctl(ns, 'net.ipv4.tcp_tw_reuse') === '1';
  const blocking = reusable ? sockets.filter((socket) => socket.state !== 'time_wait') : sockets;
  const use = ephemeralUse(blocking, range, []);
  const heldPorts = new Set(
    sockets
      .filter((s) => s.state !== 'listen' && s.localPort >= range.low && s.localPort <= range.high)
      .map((s) => s.localPort),
  );
  return { usable: use.usable, usedMax: use.usedMax, held: heldPorts.size };
}

function find(round: NetnsRound, inode: number): NamespaceSample {
  const found = round.namespaces.find((ns) => ns.inode === inode);
  if (found === undefined) throw new Error(`namespace ${inode} not in the round`);
  return found;
}

describe.skipIf(
  !canRun('netns round real-kernel tests', { netns: true, commands: ['ss', 'nsenter'] }),
)('a round over real namespaces', () => {
  const lab = new NetnsLab('nsr');
  const owners = new OwnerLab();
  const binDir = mkdtempSync(join(tmpdir(), 'tcpstate-pause-'));
  const expected: Expected[] = [];
  let exiting: { ns: string; child: ChildProcess } | undefined;
  let webAgent: SocketAgent | undefined;
  // The exporter's reader: entering each namespace with an nsenter child.
  const sysctls = new NamespaceSysctlCache({ refreshMs: 60_000 });

  async function startTenant(tenant: Tenant): Promise<{ ns: string; agent: SocketAgent }> {
    const ns = lab.addNamespace(tenant.role);
    lab.addAddress(ns, 'lo', `${SERVER}/32`);
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', tenant.range);
    lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse', tenant.twReuse);
    lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse_delay', '1');
    protectTimeWait(lab, ns);
    return { ns, agent: new SocketAgent(lab, ns) };
  }

  async function makeTraffic(tenant: Tenant, agent: SocketAgent): Promise<void> {
    await agent.listen({ name: 'svc', host: SERVER, port: SERVICE_PORT, onAccept: 'passive' });
    // Closed first by the client (its TIME_WAIT), then held open.
    const groups = [
      ['closed', tenant.closed, 'close'],
      ['held', tenant.held, 'hold'],
    ] as const;
    for (const [group, count, then] of groups) {
      await agent.connect({ group, host: SERVER, port: SERVICE_PORT, count, then });
    }
  }

  function expectOwner(
    ns: string,
    pod: PodSpec | undefined,
    container: ContainerSpec,
    label: string,
  ) {
    expected.push({
      ns,
      inode: namespaceInode(ns),
      owner: {
        pod: pod?.pod ?? '',
        namespace: pod?.namespace ?? '',
        container: label,
        containerId: container.id,
      },
      process: 'node',
    });
  }

  beforeAll(async () => {
    const v2 = cgroupV2Root();
    const [webTenant, apiTenant, composeTenant] = TENANTS as [Tenant, Tenant, Tenant];

    // A pod on the systemd driver: its pause container comes first (lower pid), the app after.
    const pausePath = join(binDir, 'pause');
    copyFileSync('/bin/sleep', pausePath);
    const webPod = newPod('shop', 'web-7d9f8-x2x4q');
    const pauseContainer = newContainer('pause');
    const webContainer = newContainer('web');
    const web = await startTenant(webTenant);
    webAgent = web.agent;
    const pause = lab.spawn(web.ns, pausePath, ['600']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    owners.place(pause.pid as number, v2, systemdPodPath(webPod, pauseContainer));
    owners.place(web.agent.pid, v2, systemdPodPath(webPod, webContainer));
    owners.writePodLogs(webPod, [webContainer]);

    // A pod on the cgroupfs driver, in a cgroup v1 hierarchy.
    const api = await startTenant(apiTenant);
    const apiPod = newPod('billing', 'api-0');
    const apiContainer = newContainer('api');
    owners.place(api.agent.pid, owners.v1Root(), cgroupfsPodPath(apiPod, apiContainer));
    // Only its v1 line names the pod: the owner can come from nowhere else.
    const apiCgroups = readFileSync(`/proc/${api.agent.pid}/cgroup`, 'utf8');
    expect(apiCgroups).toMatch(/^[1-9]\d*:name=tcpstate-\d+:\/kubepods\//m);
    const unified = apiCgroups.split('\n').find((line) => line.startsWith('0::')) ?? '';
    expect(unified).not.toContain('kubepods');
    owners.writePodLogs(apiPod, [apiContainer]);

    // Plain Docker: no pod, the short container ID names it.
    const compose = await startTenant(composeTenant);
    const composeContainer = newContainer('db');
    owners.place(compose.agent.pid, v2, dockerPath(composeContainer));

    await makeTraffic(webTenant, web.agent);
    await makeTraffic(apiTenant, api.agent);
    await makeTraffic(composeTenant, compose.agent);
    expectOwner(web.ns, webPod, webContainer, 'web');
    expectOwner(api.ns, apiPod, apiContainer, 'api');
    expectOwner(compose.ns, undefined, composeContainer, composeContainer.id.slice(0, 12));

    const exitsNs = lab.addNamespace('exits');
    exiting = { ns: exitsNs, child: lab.spawn(exitsNs, 'sleep', ['600']) };
    await once(exiting.child, 'spawn');
  }, 180_000);

  afterAll(async () => {
    sysctls.close();
    await lab.close();
    await owners.close();
    rmSync(binDir, { recursive: true, force: true });
  });

  /**
   * Every round walks every namespace unless a test says otherwise, however long it takes
   * (the machine may hold many other namespaces: no walk is left to the next round).
   */
  function sampler(
    afterDiscovery?: () => Promise<void>,
    { walkMaxAgeMs = 0, walkUseRatio = 0.25 } = {},
  ): NetnsRoundSampler {
    return new NetnsRoundSampler(
      {
        procfsRoot: '/proc',
        podLogsDir: owners.podLogsDir,
        max: 10_000,
        topDestinations: 3,
        walkMaxAgeMs,
        walkUseRatio,
      },
      sysctls,
      afterDiscovery,
      Number.POSITIVE_INFINITY,
    );
  }

  it('counts each namespace as ss inside it does, with its own port range and reuse', async () => {
    const rounds = sampler();
    // A first round fills the sysctl cache, so the compared round reads tables, not sysctls.
    await rounds.run();
    // ss before and after the round agree: nothing changed while it read (retried if not).
    for (let attempt = 1; ; attempt++) {
      const before = expected.map(({ ns }) => ssInNamespace(lab, ns));
      const round = await rounds.run();
      const after = expected.map(({ ns }) => ssInNamespace(lab, ns));
      if (before.some((text, index) => text !== after[index]) && attempt < 5) continue;
      expect(round.error).toBeUndefined();
      for (const [index, { ns, inode }] of expected.entries()) {
        const sockets = parseSs(before[index] as string);
        const sample = find(round, inode);
        expect(sample.states, ns).toEqual(familyStateCounts(sockets));
        const model = oracle(lab, ns, sockets);
        expect(sample.ephemeral.usable, ns).toBe(model.usable);
        expect(sample.ephemeral.usedMax, ns).toBe(model.usedMax);
        expect(sample.ephemeral.held, ns).toBe(model.held);
        expect(sample.ephemeral.headroomRatio, ns).toBeCloseTo(1 - model.usedMax / model.usable, 9);
        const range = parsePortRange(lab.readSysctl(ns, 'net.ipv4.ip_local_port_range'));
        expect(sample.sysctls['net.ipv4.ip_local_port_range.low']).toBe(range.low);
        expect(sample.sysctls['net.ipv4.tcp_tw_reuse']).toBe(
          Number(lab.readSysctl(ns, 'net.ipv4.tcp_tw_reuse')),
        );
      }
      // The node's own namespace (the test runs in it) is left out.
      expect(statSync('/proc/self/net/tcp').ino).toBe(statSync('/proc/1/net/tcp').ino);
      const own = statSync('/proc/self/ns/net').ino;
      expect(round.namespaces.map((ns) => ns.inode)).not.toContain(own);
      return;
    }
  }, 180_000);

  it('bounds a namespace it does not walk by its sockstat, which counts what ss shows, TCP6 included', async () => {
    // IPv6 sockets too: net/sockstat6 counts them apart from net/sockstat's TCP line.
    const agent = webAgent as SocketAgent;
    await agent.listen({ name: 'svc6', host: '::1', port: SERVICE_PORT, onAccept: 'passive' });
    const then = 'hold';
    await agent.connect({ group: 'held6', host: '::1', port: SERVICE_PORT, count: 2, then });
    // Never near (the ratio is beyond 1) and never too old: the second round walks nothing it knows.
    const rounds = sampler(undefined, { walkMaxAgeMs: 3_600_000, walkUseRatio: 2 });
    for (let attempt = 1; ; attempt++) {
      const before = expected.map(({ ns }) => ssInNamespace(lab, ns));
      const walked = await rounds.run();
      const bounded = await rounds.run();
      const after = expected.map(({ ns }) => ssInNamespace(lab, ns));
      if (before.some((text, index) => text !== after[index]) && attempt < 5) continue;
      for (const [index, { ns, inode }] of expected.entries()) {
        const sockets = parseSs(before[index] as string);
        const truth = find(walked, inode);
        const sample = find(bounded, inode);
        const inuse = (family: string) =>
          sockets.filter((socket) => socket.family === family && socket.state !== 'time_wait')
            .length;
        expect(sample.sockstat, ns).toEqual({
          ipv4: {
            inuse: inuse('ipv4'),
            tw: sockets.filter((socket) => socket.state === 'time_wait').length,
          },
          ipv6: { inuse: inuse('ipv6') },
        });
        expect(sample.walkTimestampMs, ns).toBe(truth.walkTimestampMs);
        expect(sample.states, ns).toEqual(truth.states);
        expect(sample.ephemeral.usedMax, ns).toBeGreaterThanOrEqual(truth.ephemeral.usedMax);
        expect(sample.ephemeral.held, ns).toBeGreaterThanOrEqual(truth.ephemeral.held);
        expect(sample.ephemeral.usable, ns).toBeLessThanOrEqual(truth.ephemeral.usable);
        expect(sample.ephemeral.headroomRatio, ns).toBeLessThanOrEqual(
          truth.ephemeral.headroomRatio,
        );
      }
      expect(parseSs(before[0] as string).some((socket) => socket.family === 'ipv6')).toBe(true);
      return;
    }
  }, 180_000);

  it('labels each namespace with the owner its cgroup and the pod-logs tree name', async () => {
    const round = await sampler().run();
    for (const { ns, inode, owner, process } of expected) {
      const sample = find(round, inode);
      expect({ ...sample.owner }, ns).toEqual(owner);
      // The web pod's pause container has the lower pid; the app is read instead.
      expect(sample.process, ns).toBe(process);
    }
  }, 180_000);

  it('serves the labels on /metrics from the running exporter, off its own netns worker', async () => {
    const exporter = await startExporter([
      '--collector.netns',
      `--path.pod-logs=${owners.podLogsDir}`,
      '--collector.netns.max=1000',
      '--collector.netns.interval=5s',
    ]);
    try {
      const [web] = expected as [Expected];
      const body = await waitFor(
        async () => {
          const text = await (await fetch(`${exporter.url}/metrics`)).text();
          return text.includes(`netns="${web.inode}"`) ? text : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 500, describe: () => exporter.daemon.output() },
      );
      expect(sampleValue(body, 'tcpstate_collector_success', { collector: 'netns' })).toBe(1);
      for (const { inode, owner, process } of expected) {
        const info = samplesOf(body, 'tcpstate_netns_info').find(
          (sample) => sample.labels.netns === String(inode),
        );
        expect(info?.labels).toEqual({
          netns: String(inode),
          pod: owner.pod,
          namespace: owner.namespace,
          container: owner.container,
          container_id: owner.containerId,
          process,
        });
      }
    } finally {
      await exporter.daemon.stop();
    }
  }, 180_000);

  it('--once --collector.netns puts each namespace in tcpstate_sockets under its inode, with the counts ss -N shows at the same moment', async () => {
    const ss = (ns: string) => execFileSync('ss', ['-N', ns, '-tanH'], { encoding: 'utf8' });
    const node = /^net:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/net'))?.[1];
    for (let attempt = 1; ; attempt++) {
      const before = expected.map(({ ns }) => ss(ns));
      const run = await runExporter([
        '--once',
        '--collector.netns',
        `--path.pod-logs=${owners.podLogsDir}`,
        '--collector.netns.max=1000',
      ]);
      const after = expected.map(({ ns }) => ss(ns));
      if (before.some((text, index) => text !== after[index]) && attempt < 5) continue;
      expect(run.stderr).not.toMatch(/collector failed.*netns/);
      const sockets = samplesOf(run.stdout, 'tcpstate_sockets');
      for (const [index, { ns, inode, owner }] of expected.entries()) {
        const counts = familyStateCounts(parseSs(before[index] as string));
        const own = sockets.filter((sample) => sample.labels.netns === String(inode));
        expect(own, ns).toHaveLength(22);
        for (const sample of own) {
          const { family, state } = sample.labels as { family: Family; state: TcpState };
          expect(sample.value, `${ns} ${family} ${state}`).toBe(counts[family][state]);
          expect(sample.labels, ns).toMatchObject({ pod: owner.pod, container: owner.container });
        }
      }
      // The node's own series: this process's namespace, no owner.
      expect(
        sockets.filter((sample) => sample.labels.netns === node && sample.labels.pod === ''),
      ).toHaveLength(22);
      // No tcpstate_netns_* family restates a node family.
      expect(run.stdout).not.toMatch(/^tcpstate_netns_(sockets|ephemeral|sysctl|sockstat)/m);
      break;
    }
  }, 180_000);

  it('fails a namespace whose process exits mid-round alone, and counts it', async () => {
    const gone = exiting as { ns: string; child: ChildProcess };
    const inode = namespaceInode(gone.ns);
    const round = await sampler(async () => {
      const exited = once(gone.child, 'exit');
      gone.child.kill('SIGKILL');
      await exited;
    }).run();
    expect(round.error).toBeUndefined();
    expect(round.failures.map((failure) => failure.inode)).toContain(inode);
    expect(round.namespaces.map((ns) => ns.inode)).not.toContain(inode);
    for (const { inode: other } of expected)
      expect(find(round, other).socketCount).toBeGreaterThan(0);
  }, 180_000);
});
