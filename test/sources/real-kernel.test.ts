/**
 * The engine against a real kernel: sockets in every state from LISTEN to LAST_ACK over
 * IPv4, IPv6 and IPv4-mapped, built in network namespaces, sampled by the engine from
 * inside each namespace and compared with `ss -tanH` (netlink, an independent path)
 * taken in the same namespace around the sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAMILIES,
  type PortStateCounts,
  type Snapshot,
  type StateCounts,
  TCP_STATES,
} from '../../src/snapshot/model.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { sampleInNamespace } from '../../testkit/kernel/netns-sampler.js';
import {
  buildAllStatesScenario,
  buildClientTimewaitScenario,
  type ScenarioHandle,
} from '../../testkit/kernel/socket-scenario.js';
import {
  ephemeralUse,
  familyStateCounts,
  listeningPorts,
  listenPortStates,
  normalizeAddress,
  parsePortRange,
  parseReservedPorts,
  parseSs,
  procTableStateCounts,
  remotePortStates,
  type SsSocket,
  ssInNamespace,
} from '../../testkit/kernel/ss-oracle.js';

// Large enough that nothing is folded into `other`, so every port and destination compares.
const UNBOUNDED = { maxListenPorts: 10_000, topRemotePorts: 10_000, topDestinations: 10_000 };
const SAMPLE_ATTEMPTS = 3;

/** Same sockets, whatever order ss listed them in. */
function socketSetKey(sockets: readonly SsSocket[]): string {
  return sockets
    .map(
      (s) =>
        `${s.family} ${s.state} ${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort}`,
    )
    .sort()
    .join('\n');
}

/**
 * Samples with the engine between two `ss` runs and keeps the result only when both ss
 * runs saw the same sockets, so churn (a timer firing mid-way) cannot fake a mismatch.
 */
function sampleBetweenStableSs(
  scenario: ScenarioHandle,
  ns: string,
): { snapshot: Snapshot; sockets: SsSocket[] } {
  for (let attempt = 1; ; attempt++) {
    const before = parseSs(ssInNamespace(scenario.lab, ns));
    const snapshot = sampleInNamespace(scenario.lab, ns, UNBOUNDED);
    const after = parseSs(ssInNamespace(scenario.lab, ns));
    if (socketSetKey(before) === socketSetKey(after)) return { snapshot, sockets: after };
    if (attempt >= SAMPLE_ATTEMPTS) throw new Error(`sockets in ${ns} kept changing`);
  }
}

function portTable(entries: readonly PortStateCounts[]): Map<number | 'other', StateCounts> {
  return new Map(entries.map((entry) => [entry.port, entry.states]));
}

/** Asserts the engine snapshot of one namespace against the ss oracle of the same moment. */
function expectSnapshotMatchesSs(scenario: ScenarioHandle, ns: string): void {
  const { snapshot, sockets } = sampleBetweenStableSs(scenario, ns);
  expect(snapshot.sources.sockets).toMatchObject({ success: true });
  const tables = snapshot.sockets;
  if (!tables) throw new Error(`no socket tables: ${JSON.stringify(snapshot.sources)}`);

  expect(tables.tcp.malformed + tables.tcp6.malformed).toBe(0);
  expect(tables.tcp.sockets + tables.tcp6.sockets).toBe(sockets.length);
  expect(tables.states).toEqual(familyStateCounts(sockets));

  expect(tables.listeningPorts).toEqual(listeningPorts(sockets));
  expect(portTable(tables.listenPorts)).toEqual(listenPortStates(sockets));
  expect(portTable(tables.remotePorts)).toEqual(remotePortStates(sockets));

  // The oracle reads the namespace's sysctls itself, not through the engine.
  const range = parsePortRange(scenario.lab.readSysctl(ns, 'net.ipv4.ip_local_port_range'));
  const reserved = parseReservedPorts(
    scenario.lab.readSysctl(ns, 'net.ipv4.ip_local_reserved_ports'),
  );
  const oracle = ephemeralUse(sockets, range, reserved);
  const ephemeral = tables.ephemeral;
  if (!ephemeral) throw new Error(`no ephemeral ports: ${tables.ephemeralError}`);
  // Every destination here is off loopback and tcp_tw_reuse is 2: every TIME_WAIT blocks.
  expect(ephemeral.reuse.twReuse).toBe(2);
  expect(ephemeral.destinations.every((d) => d.holdSeconds === 60)).toBe(true);
  expect({ low: ephemeral.rangeLow, high: ephemeral.rangeHigh }).toEqual(range);
  expect(ephemeral.usable).toBe(oracle.usable);
  expect(ephemeral.usedMax).toBe(oracle.usedMax);
  expect(ephemeral.destinationCount).toBe(oracle.destinations.length);
  const engineDestinations = ephemeral.destinations.map((d) => ({
    localAddress: normalizeAddress(d.localAddress),
    remoteAddress: normalizeAddress(d.remoteAddress),
    remotePort: d.remotePort,
    used: d.used,
    timeWait: d.timeWait,
  }));
  expect(new Set(engineDestinations.map((d) => JSON.stringify(d)))).toEqual(
    new Set(oracle.destinations.map((d) => JSON.stringify(d))),
  );
}

describe.skipIf(!canRun('real-kernel engine vs ss', { netns: true, commands: ['ss'] }))(
  'engine on a real kernel agrees with ss -tanH',
  () => {
    describe('all-states scenario', () => {
      let scenario: ScenarioHandle | undefined;
      beforeAll(async () => {
        scenario = await buildAllStatesScenario();
      });
      afterAll(async () => {
        await scenario?.close();
      });
      const built = (): ScenarioHandle => {
        if (!scenario) throw new Error('scenario was not built');
        return scenario;
      };

      it('holds every TCP state, over IPv4 and IPv6 (IPv4-mapped included)', () => {
        const { lab, mainNs } = built();
        const sockets = parseSs(ssInNamespace(lab, mainNs));
        const counts = familyStateCounts(sockets);
        for (const family of FAMILIES) {
          for (const state of TCP_STATES) {
            if (state === 'close' || state === 'closing') continue;
            expect(counts[family][state], `${family} ${state}`).toBeGreaterThan(0);
          }
        }
        const mappedStates = new Set(
          sockets
            .filter((s) => s.family === 'ipv6' && s.localAddress.includes('.'))
            .map((s) => s.state),
        );
        expect([...mappedStates].sort()).toEqual(
          [
            'established',
            'fin_wait1',
            'fin_wait2',
            'time_wait',
            'close_wait',
            'last_ack',
            'syn_sent',
            'syn_recv',
          ].sort(),
        );
      });

      it('the oracle splits families as ss -4 and ss -6 do', () => {
        const { lab, mainNs } = built();
        const all = familyStateCounts(parseSs(ssInNamespace(lab, mainNs)));
        const ipv4Only = familyStateCounts(parseSs(lab.exec(mainNs, 'ss', ['-tanH', '-4'])));
        const ipv6Only = familyStateCounts(parseSs(lab.exec(mainNs, 'ss', ['-tanH', '-6'])));
        expect(all.ipv4).toEqual(ipv4Only.ipv4);
        expect(all.ipv6).toEqual(ipv6Only.ipv6);
        expect(Object.values(ipv4Only.ipv6).every((n) => n === 0)).toBe(true);
        expect(Object.values(ipv6Only.ipv4).every((n) => n === 0)).toBe(true);
      });

      it('ss shows what /proc/net/tcp{,6} show, request sockets (SYN_RECV) included', () => {
        const { lab, mainNs } = built();
        const tcp = procTableStateCounts(lab.exec(mainNs, 'cat', ['/proc/net/tcp']));
        const tcp6 = procTableStateCounts(lab.exec(mainNs, 'cat', ['/proc/net/tcp6']));
        const fromSs = familyStateCounts(parseSs(ssInNamespace(lab, mainNs)));
        expect(fromSs).toEqual({ ipv4: tcp, ipv6: tcp6 });
        expect(tcp.syn_recv).toBeGreaterThan(0);
        expect(tcp6.syn_recv).toBeGreaterThan(0);
      });

      it('matches ss in the main namespace (reserved ports, listener inside the range)', () => {
        expectSnapshotMatchesSs(built(), built().mainNs);
      });

      it('matches ss in the peer namespace', () => {
        const peer = built().netnsNames[1];
        if (peer === undefined) throw new Error('no peer namespace');
        expectSnapshotMatchesSs(built(), peer);
      });
    });

    describe('client-timewait scenario (600 client-closed connections, narrow range)', () => {
      let scenario: ScenarioHandle | undefined;
      beforeAll(async () => {
        scenario = await buildClientTimewaitScenario();
      });
      afterAll(async () => {
        await scenario?.close();
      });

      it('matches ss in the client namespace', () => {
        if (!scenario) throw new Error('scenario was not built');
        expectSnapshotMatchesSs(scenario, scenario.mainNs);
      });
    });
  },
);
