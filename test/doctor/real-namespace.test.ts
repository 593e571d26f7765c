/**
 * doctor against a real kernel: network namespaces with real short connections, a full
 * accept queue and a tiny TIME_WAIT table, then doctor run inside the namespace.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/finding.js';
import type { DoctorReport } from '../../src/doctor/report.js';
import {
  EPHEMERAL_USE_CRITICAL_RATIO,
  EPHEMERAL_USE_WARNING_RATIO,
} from '../../src/doctor/thresholds.js';
import { doctorSchemaErrors } from '../../testkit/doctor/doctor-cli.js';
import { mythProblemsInFindings } from '../../testkit/doctor/doctor-myths.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';

/** `node --import tsx FILE`: the TypeScript runs in that very process, so killing it leaves no child behind. */
function nodeTs(file: string, args: readonly string[]): string[] {
  return ['--import', 'tsx', file, ...args];
}
const LOAD = fileURLToPath(new URL('../../testkit/programs/doctor-load.ts', import.meta.url));
const RUNNER = fileURLToPath(new URL('../../testkit/programs/doctor-runner.ts', import.meta.url));

const CLIENT = '198.18.0.2';
const SERVER = '198.18.0.1';
const PORT_RANGE = '20000 20999';
const USABLE = 1000;
const CONNECTIONS = 700;
/** Every child ends by itself after this long, whatever happens to the test. */
const CHILD_SECONDS = 40;
/**
 * Per test: its steps are bounded on their own (15 s for a listener to start, 60 s for a load
 * or a doctor run), which on a loaded machine adds up past vitest's default of 30 s.
 */
const TEST_TIMEOUT_MS = 180_000;

function startLoad(lab: NetnsLab, ns: string, args: readonly string[]): ChildProcess {
  return lab.spawn(ns, process.execPath, nodeTs(LOAD, args));
}

function runLoad(lab: NetnsLab, ns: string, args: readonly string[]): string {
  return lab.exec(ns, process.execPath, nodeTs(LOAD, args), { timeoutMs: 60_000 });
}

function waitForLine(child: ChildProcess, line: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no "${line}" within ${timeoutMs} ms: ${seen}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${line}": ${seen}`));
    });
  });
}

/** Reads `read()` every 100 ms until `done` holds, at most 5 s; returns the last value. */
async function poll<T>(read: () => T, done: (value: T) => boolean): Promise<T> {
  let value = read();
  for (let attempt = 0; attempt < 50 && !done(value); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = read();
  }
  return value;
}

function tcpExtCounter(lab: NetnsLab, ns: string, field: string): number {
  const [names = '', values = ''] = lab
    .exec(ns, 'cat', ['/proc/net/netstat'])
    .split('\n')
    .filter((line) => line.startsWith('TcpExt:'));
  return Number(values.split(' ')[names.split(' ').indexOf(field)]);
}

/** Sockets toward `destination` as `ss` (netlink) lists them, in `state` or in any state. */
function socketsToward(lab: NetnsLab, ns: string, destination: string, state = 'all'): number {
  return lab
    .exec(ns, 'ss', ['-tanH', 'state', state, 'dst', destination])
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

/** Lines of the kernel log that match; `dmesg` needs root, as these tests do. */
function kernelLogLines(pattern: RegExp): number {
  return execFileSync('dmesg', [], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => pattern.test(line)).length;
}

/** Distinct local ports of non-LISTEN sockets in [low, high], as `ss` (netlink) lists them. */
function localPortsHeld(lab: NetnsLab, ns: string, low: number, high: number): number {
  const ports = lab
    .exec(ns, 'ss', ['-tanH', 'state', 'all', 'exclude', 'listening'])
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Number(line.trim().split(/\s+/)[3]?.split(':').at(-1)));
  return new Set(ports.filter((port) => port >= low && port <= high)).size;
}

/** `hold`: opens connections until `max` or the first failure, keeps them; how many opened. */
async function heldConnections(
  lab: NetnsLab,
  ns: string,
  args: readonly string[],
): Promise<{ child: ChildProcess; held: number }> {
  const child = startLoad(lab, ns, ['hold', ...args]);
  const held = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`hold said nothing: ${seen}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /held (\d+)/.exec(seen);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { child, held };
}

function doctorIn(lab: NetnsLab, ns: string, window: string): DoctorReport {
  const stdout = lab.exec(
    ns,
    process.execPath,
    nodeTs(RUNNER, ['--format', 'json', '--window', window]),
    {
      timeoutMs: 60_000,
    },
  );
  const report: unknown = JSON.parse(stdout);
  expect(doctorSchemaErrors(report)).toEqual([]);
  const typed = report as DoctorReport;
  expect(mythProblemsInFindings(typed.findings)).toEqual([]);
  return typed;
}

function findingsWith(report: DoctorReport, id: Finding['id']): Finding[] {
  return report.findings.filter((finding) => finding.id === id);
}

describe.skipIf(!canRun('doctor real-namespace test', { netns: true, commands: ['ss', 'dmesg'] }))(
  'doctor inside a real network namespace',
  () => {
    const lab = new NetnsLab('tsd');
    let client = '';
    let server = '';

    beforeAll(() => {
      client = lab.addNamespace('cli');
      server = lab.addNamespace('srv');
      lab.link(
        { ns: client, device: 'veth0', addresses: [`${CLIENT}/24`] },
        { ns: server, device: 'veth0', addresses: [`${SERVER}/24`] },
      );
      lab.setSysctl(client, 'net.ipv4.ip_local_port_range', PORT_RANGE);
    });
    afterAll(() => lab.close());

    it('names the upstream in client-side-time-wait and ephemeral-headroom-low after short client-closed connections', async () => {
      const listener = startLoad(lab, server, ['serve', SERVER, '9000', String(CHILD_SECONDS)]);
      await waitForLine(listener, 'listening');
      const done = runLoad(lab, client, ['connect', SERVER, '9000', String(CONNECTIONS)]);
      expect(done.trim()).toBe(`done ${CONNECTIONS}`);
      // Independent counts over netlink, once every socket has reached TIME_WAIT (the last
      // ones may still be in FIN_WAIT2 for a moment). They are compared with what doctor
      // reads, not with CONNECTIONS: on a loaded machine the kernel can end a TIME_WAIT
      // early (CI once saw 699 of 700), and that is not doctor's business.
      const upstream = `${SERVER}:9000`;
      const counts = (): { all: number; timeWait: number } => ({
        all: socketsToward(lab, client, upstream),
        timeWait: socketsToward(lab, client, upstream, 'time-wait'),
      });
      const before = await poll(counts, ({ all, timeWait }) => all === timeWait);
      expect(before.timeWait).toBe(before.all);
      const { timeWait } = before;
      // Between the warning and the critical share of the usable ports.
      expect(timeWait).toBeGreaterThan(USABLE * EPHEMERAL_USE_WARNING_RATIO);
      expect(timeWait).toBeLessThan(USABLE * EPHEMERAL_USE_CRITICAL_RATIO);

      const report = doctorIn(lab, client, '200ms');
      expect(report.ephemeral?.usable).toBe(USABLE);
      // Nothing changed while doctor sampled, so its figures must equal ss's.
      expect(counts()).toEqual(before);

      const headroom = findingsWith(report, 'ephemeral-headroom-low');
      expect(headroom).toHaveLength(1);
      expect(headroom[0]?.severity).toBe('warning');
      expect(headroom[0]?.evidence).toMatchObject({
        localAddress: CLIENT,
        remoteAddress: SERVER,
        remotePort: 9000,
        used: timeWait,
        usable: USABLE,
      });

      const clientSide = findingsWith(report, 'client-side-time-wait');
      expect(clientSide).toHaveLength(1);
      expect(clientSide[0]?.evidence).toMatchObject({
        remotePort: 9000,
        timeWait,
        localBackend: 'no',
        destinations: [
          { localAddress: CLIENT, remoteAddress: SERVER, remotePort: 9000, used: timeWait },
        ],
      });
      const lines = clientSide[0]?.fix.flatMap((step) => step.lines ?? []) ?? [];
      expect(lines).toContain('fastcgi_keep_conn on;');
      // tcp_tw_reuse is 2 in a new namespace and the upstream is not loopback.
      expect(findingsWith(report, 'tw-reuse-off')).toHaveLength(1);
      // Accepted connections hold no ephemeral ports: the server namespace has no such finding.
      const serverReport = doctorIn(lab, server, '0');
      expect(findingsWith(serverReport, 'ephemeral-headroom-low')).toEqual([]);
      expect(findingsWith(serverReport, 'client-side-time-wait')).toEqual([]);
    });

    it('reports listen-overflows while a listener does not accept', async () => {
      const stalled = startLoad(lab, client, ['stall', CLIENT, '9100', String(CHILD_SECONDS)]);
      await waitForLine(stalled, 'listening');
      const flood = startLoad(lab, server, ['churn', CLIENT, '9100', String(CHILD_SECONDS), '50']);
      try {
        const overflowsBefore = await poll(
          () => tcpExtCounter(lab, client, 'ListenOverflows'),
          (count) => count > 0,
        );
        expect(overflowsBefore).toBeGreaterThan(0);
        const report = doctorIn(lab, client, '1s');
        const overflows = findingsWith(report, 'listen-overflows');
        expect(overflows).toHaveLength(1);
        expect(overflows[0]?.evidence['TcpExtListenOverflows.delta']).toBeGreaterThan(0);
      } finally {
        flood.kill('SIGKILL');
        stalled.kill('SIGKILL');
      }
    });

    it('reports time-wait-overflow and the bucket limit when tcp_max_tw_buckets is tiny', async () => {
      const ns = lab.addNamespace('tw');
      const limit = 16;
      lab.setSysctl(ns, 'net.ipv4.tcp_max_tw_buckets', String(limit));
      const overflowMessagesBefore = kernelLogLines(/time wait bucket table overflow/i);
      const listener = startLoad(lab, ns, ['serve', '127.0.0.1', '9000', String(CHILD_SECONDS)]);
      await waitForLine(listener, 'listening');
      const churn = startLoad(lab, ns, [
        'churn',
        '127.0.0.1',
        '9000',
        String(CHILD_SECONDS),
        '100',
      ]);
      try {
        const overflowsBefore = await poll(
          () => tcpExtCounter(lab, ns, 'TCPTimeWaitOverflow'),
          (count) => count > 0,
        );
        expect(overflowsBefore).toBeGreaterThan(0);
        const report = doctorIn(lab, ns, '1s');
        const overflow = findingsWith(report, 'time-wait-overflow');
        expect(overflow).toHaveLength(1);
        expect(overflow[0]?.evidence['net.ipv4.tcp_max_tw_buckets']).toBe(limit);
        expect(overflow[0]?.evidence['TcpExtTCPTimeWaitOverflow.delta']).toBeGreaterThan(0);
        const nearLimit = findingsWith(report, 'time-wait-near-bucket-limit');
        expect(nearLimit).toHaveLength(1);
        expect(nearLimit[0]?.severity).toBe('critical');
        // sockstat tw is the count inet_twsk_alloc() holds at the limit: never above it.
        const timeWait = nearLimit[0]?.evidence.timeWait as number;
        expect(timeWait).toBeLessThanOrEqual(limit);
        // The running kernel counts the overflows and logs nothing, as doctor says.
        expect(overflow[0]?.explanation).toContain('logs nothing');
        expect(kernelLogLines(/time wait bucket table overflow/i)).toBe(overflowMessagesBefore);
      } finally {
        churn.kill('SIGKILL');
      }
    });
  },
  TEST_TIMEOUT_MS,
);

/** A 100-port range: small enough to fill in a test, the same arithmetic as 28 232. */
const SMALL_RANGE = { low: 20000, high: 20099 };
const SMALL_USABLE = SMALL_RANGE.high - SMALL_RANGE.low + 1;

describe.skipIf(!canRun('doctor connect() model test', { netns: true, commands: ['ss'] }))(
  'doctor against what connect() really does',
  () => {
    const lab = new NetnsLab('tsm');
    afterAll(() => lab.close());

    function namespaceWithSmallRange(role: string, reuse: string): string {
      const ns = lab.addNamespace(role);
      lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', `${SMALL_RANGE.low} ${SMALL_RANGE.high}`);
      lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse', reuse);
      return ns;
    }

    /** A client namespace with the small range, linked to a server listening on `ports`. */
    async function clientAndServer(
      role: string,
      reuse: string,
      ports: string,
    ): Promise<{ client: string; listener: ChildProcess }> {
      const client = namespaceWithSmallRange(`c${role}`, reuse);
      const server = lab.addNamespace(`s${role}`);
      lab.link(
        { ns: client, device: 'veth0', addresses: [`${CLIENT}/24`] },
        { ns: server, device: 'veth0', addresses: [`${SERVER}/24`] },
      );
      const listener = startLoad(lab, server, ['serve', SERVER, ports, String(CHILD_SECONDS)]);
      await waitForLine(listener, 'listening');
      return { client, listener };
    }

    /**
     * `count` connections to host:9000, each closed by the client; then ss's counts toward it
     * once all have reached TIME_WAIT, and a way to take them again.
     */
    async function closedConnections(ns: string, host: string, count: number) {
      expect(runLoad(lab, ns, ['connect', host, '9000', String(count)]).trim()).toBe(
        `done ${count}`,
      );
      const upstream = `${host}:9000`;
      const counts = () => ({
        all: socketsToward(lab, ns, upstream),
        timeWait: socketsToward(lab, ns, upstream, 'time-wait'),
      });
      const settled = await poll(counts, ({ all, timeWait }) => all === timeWait);
      return { counts, settled };
    }

    it('loopback TIME_WAIT with tcp_tw_reuse=2: reusable, with the rate, never EADDRNOTAVAIL', async () => {
      const ns = namespaceWithSmallRange('lo', '2');
      const listener = startLoad(lab, ns, ['serve', '127.0.0.1', '9000', String(CHILD_SECONDS)]);
      await waitForLine(listener, 'listening');
      const { counts, settled } = await closedConnections(
        ns,
        '127.0.0.1',
        Math.round(SMALL_USABLE * 0.95),
      );
      // TIME_WAIT becomes reusable once older than tcp_tw_reuse_delay (1 s by default).
      const delayMs = Number(lab.readSysctl(ns, 'net.ipv4.tcp_tw_reuse_delay'));
      await new Promise((resolve) => setTimeout(resolve, delayMs * 2));

      const report = doctorIn(lab, ns, '0');
      expect(counts()).toEqual(settled);
      expect(report.findings.filter((found) => found.severity === 'critical')).toEqual([]);
      expect(findingsWith(report, 'ephemeral-headroom-low')).toEqual([]);
      expect(report.verdict.severity).not.toBe('critical');
      expect(JSON.stringify(report.findings)).not.toMatch(/Cannot assign requested address/);
      const clientSide = findingsWith(report, 'client-side-time-wait');
      expect(clientSide).toHaveLength(1);
      expect(clientSide[0]?.evidence).toMatchObject({
        timeWait: settled.timeWait,
        reusable: 'yes',
        connectionsPerSecondLimit: SMALL_USABLE / (delayMs / 1000),
      });
      expect(clientSide[0]?.explanation).toContain('reusable');

      // What connect() does at the same moment: every usable port it is told is left opens.
      const usedMax = report.ephemeral?.usedMax ?? Number.NaN;
      const { child, held } = await heldConnections(lab, ns, [
        '127.0.0.1',
        '9000',
        String(SMALL_USABLE),
        String(CHILD_SECONDS),
      ]);
      child.kill('SIGKILL');
      expect(held).toBe(SMALL_USABLE - usedMax);
      listener.kill('SIGKILL');
    });

    it('non-loopback TIME_WAIT with tcp_tw_reuse=0 near exhaustion: critical, with the ports left', async () => {
      const { client, listener } = await clientAndServer('0', '0', '9000');
      const { counts, settled } = await closedConnections(
        client,
        SERVER,
        Math.round(SMALL_USABLE * 0.9),
      );
      expect(settled.timeWait).toBeGreaterThanOrEqual(SMALL_USABLE * EPHEMERAL_USE_CRITICAL_RATIO);

      const report = doctorIn(lab, client, '0');
      expect(counts()).toEqual(settled);
      const headroom = findingsWith(report, 'ephemeral-headroom-low');
      expect(headroom).toHaveLength(1);
      expect(headroom[0]?.severity).toBe('critical');
      expect(report.verdict.severity).toBe('critical');
      expect(headroom[0]?.evidence).toMatchObject({ used: settled.timeWait, usable: SMALL_USABLE });
      const left = headroom[0]?.evidence.left;
      // Reuse off: the fix list may offer tcp_tw_reuse=1, and tw-reuse-off says why.
      expect(findingsWith(report, 'tw-reuse-off')).toHaveLength(1);

      const { child, held } = await heldConnections(lab, client, [
        SERVER,
        '9000',
        String(SMALL_USABLE),
        String(CHILD_SECONDS),
      ]);
      child.kill('SIGKILL');
      expect(held).toBe(left);
      listener.kill('SIGKILL');
    });

    it('bind-first clients: the held figure is what a client that binds first can still get', async () => {
      const { client, listener } = await clientAndServer('b', '2', '9001-9011');
      // Ten backends, six bind-first connections each: 60 ports held, at most 6 per destination.
      const spread = await heldConnections(lab, client, [
        SERVER,
        '9001-9010',
        '60',
        String(CHILD_SECONDS),
        CLIENT,
      ]);
      expect(spread.held).toBe(60);
      const heldBySs = localPortsHeld(lab, client, SMALL_RANGE.low, SMALL_RANGE.high);

      const report = doctorIn(lab, client, '0');
      expect(localPortsHeld(lab, client, SMALL_RANGE.low, SMALL_RANGE.high)).toBe(heldBySs);
      expect(report.ephemeral?.held).toBe(heldBySs);
      const bindFirst = findingsWith(report, 'bind-first-ports-low');
      expect(bindFirst).toHaveLength(1);
      expect(bindFirst[0]?.evidence).toMatchObject({ held: heldBySs, usable: SMALL_USABLE });
      expect(JSON.stringify(bindFirst[0]?.fix)).toContain('IP_BIND_ADDRESS_NO_PORT');
      expect(findingsWith(report, 'ephemeral-headroom-low')).toEqual([]);

      // A further bind-first client toward a fresh backend gets exactly the ports left.
      const more = await heldConnections(lab, client, [
        SERVER,
        '9011',
        String(SMALL_USABLE),
        String(CHILD_SECONDS),
        CLIENT,
      ]);
      more.child.kill('SIGKILL');
      spread.child.kill('SIGKILL');
      listener.kill('SIGKILL');
      expect(more.held).toBe(bindFirst[0]?.evidence.left);
    });
  },
  TEST_TIMEOUT_MS,
);
