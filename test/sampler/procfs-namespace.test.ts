/**
 * `--path.procfs=/proc/<pid>`, the single-namespace mode, on the real kernel: the exporter
 * runs in the host's namespace, samples a lab namespace through a process in it, and its
 * sysctls and ephemeral figures are that namespace's (read by entering it), checked against
 * `sysctl -n` inside it and against counted connect()s; as nobody it assumes the defaults,
 * says so in tcpstate_sysctls_assumed and one log line, and every collector still succeeds.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTORS } from '../../src/collectors/registry.js';
import {
  exporterCommand,
  parseLogLines,
  runCommand,
  runExporter,
  startExporter,
} from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  asUser,
  type NamespaceProcess,
  NOBODY,
  startNamespaceProcess,
} from '../../testkit/kernel/namespace-process.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { SocketAgent } from '../../testkit/kernel/socket-scenario.js';
import { samplesOf, sampleValue } from '../../testkit/prometheus/exposition.js';
import { httpGet, waitFor } from '../../testkit/prometheus/prometheus-daemon.js';

/** Every collector enabled by default, each succeeding. */
const ALL_SUCCEEDED = Object.fromEntries(
  COLLECTORS.filter((collector) => collector.enabledByDefault).map(({ name }) => [name, 1]),
);

function collectorSuccess(body: string): Record<string, number> {
  return Object.fromEntries(
    samplesOf(body, 'tcpstate_collector_success').map((sample) => [
      sample.labels.collector,
      sample.value,
    ]),
  );
}

const RANGE = { low: 40_000, high: 40_039 };
const SERVER_PORT = 9000;
const HELD = 7;

function sysctl(body: string, name: string): number | undefined {
  return sampleValue(body, 'tcpstate_sysctl', { name });
}

describe.skipIf(
  !canRun('--path.procfs=/proc/<pid> on a lab namespace', {
    netns: true,
    commands: ['nsenter', 'setpriv', 'ss'],
  }),
)('--path.procfs=/proc/<pid>: one namespace, entered for its sysctls', () => {
  let lab: NetnsLab;
  let ns: string;
  let agent: SocketAgent;
  let holder: NamespaceProcess;
  let round = 0;

  beforeAll(async () => {
    lab = new NetnsLab('tpn');
    ns = lab.addNamespace('app');
    lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', `${RANGE.low} ${RANGE.high}`);
    lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse', '0');
    lab.setSysctl(ns, 'net.ipv4.tcp_tw_reuse_delay', '7');
    holder = await startNamespaceProcess(lab, ns);
    agent = new SocketAgent(lab, ns);
    await agent.listen({ name: 'server', host: '127.0.0.1', port: SERVER_PORT, onAccept: 'hold' });
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  });

  /** Holds `count` ESTABLISHED connections toward the server. */
  async function hold(count: number): Promise<string> {
    const group = `held-${round++}`;
    const result = await agent.exhaust({ group, host: '127.0.0.1', port: SERVER_PORT, max: count });
    expect(result).toEqual({ count, error: 'max' });
    return group;
  }

  it('--once exits 0 with the namespace’s own port range, reuse settings and headroom', async () => {
    const held = await hold(HELD);
    const run = await runExporter(['--once', `--path.procfs=/proc/${holder.pid}`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const body = run.stdout;
    expect(collectorSuccess(body)).toEqual(ALL_SUCCEEDED);
    expect(sampleValue(body, 'tcpstate_sysctls_assumed')).toBe(0);
    // Every per-namespace sysctl as sysctl -n shows it inside the namespace.
    for (const name of [
      'tcp_tw_reuse',
      'tcp_tw_reuse_delay',
      'tcp_timestamps',
      'tcp_fin_timeout',
    ]) {
      const inside = Number(lab.readSysctl(ns, `net.ipv4.${name}`));
      expect(sysctl(body, `net.ipv4.${name}`), name).toBe(inside);
    }
    const [low, high] = lab.readSysctl(ns, 'net.ipv4.ip_local_port_range').split(/\s+/).map(Number);
    expect(sysctl(body, 'net.ipv4.ip_local_port_range.low')).toBe(low);
    expect(sysctl(body, 'net.ipv4.ip_local_port_range.high')).toBe(high);
    // The host-wide tcp_mem comes from the host's /proc/sys (the exporter's own namespace).
    expect(sysctl(body, 'net.ipv4.tcp_mem.max')).toBeGreaterThan(0);

    const usable = sampleValue(body, 'tcpstate_ephemeral_ports_usable') ?? Number.NaN;
    const usedMax = sampleValue(body, 'tcpstate_ephemeral_ports_used_max') ?? Number.NaN;
    expect(usable).toBe(RANGE.high - RANGE.low + 1);
    expect(usedMax).toBe(HELD);
    // What the kernel does: plain connect()s until EADDRNOTAVAIL.
    const counted = await agent.exhaust({
      group: `count-${round}`,
      host: '127.0.0.1',
      port: SERVER_PORT,
      max: 1_000,
    });
    expect(counted.error).toBe('EADDRNOTAVAIL');
    expect(counted.count).toBe(usable - usedMax);
    await agent.drop(`count-${round}`);
    await agent.drop(held);
  });

  it('as nobody, --once exits 0, assumes the defaults, says so in the metric and once in the log', async () => {
    const [file, args] = asUser(
      NOBODY,
      ...exporterCommand(['--once', `--path.procfs=/proc/${holder.pid}`]),
    );
    const run = await runCommand(file, args);
    expect(run.code, run.stderr).toBe(0);
    const body = run.stdout;
    expect(collectorSuccess(body)).toEqual(ALL_SUCCEEDED);
    expect(sampleValue(body, 'tcpstate_sysctls_assumed')).toBe(1);
    expect(sysctl(body, 'net.ipv4.ip_local_port_range.low')).toBe(32768);
    expect(sysctl(body, 'net.ipv4.ip_local_port_range.high')).toBe(60999);
    expect(sysctl(body, 'net.ipv4.tcp_tw_reuse')).toBe(2);
    expect(sampleValue(body, 'tcpstate_ephemeral_ports_usable')).toBe(60999 - 32768 + 1);
    const logs = parseLogLines(run.stderr);
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'warn',
        reason: expect.stringMatching(/CAP_SYS_ADMIN/),
        msg: expect.stringMatching(/defaults are assumed/),
      }),
    ]);
  });

  it('the daemon hands the namespace’s sysctls to its sampling worker', async () => {
    const exporter = await startExporter([
      `--path.procfs=/proc/${holder.pid}`,
      '--sample.interval=200ms',
    ]);
    try {
      const body = await waitFor(
        async () => {
          const response = await httpGet(`${exporter.url}/metrics`);
          return sampleValue(response.body, 'tcpstate_sysctls_assumed') === 0
            ? response.body
            : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, describe: () => exporter.daemon.output() },
      );
      expect(sysctl(body, 'net.ipv4.ip_local_port_range.low')).toBe(RANGE.low);
      expect(sysctl(body, 'net.ipv4.tcp_tw_reuse_delay')).toBe(7);
      expect(sampleValue(body, 'tcpstate_ephemeral_ports_usable')).toBe(RANGE.high - RANGE.low + 1);
      expect(exporter.logLines().filter((line) => line.level === 'warn')).toEqual([]);
    } finally {
      await exporter.daemon.stop();
    }
  });

  it('fails every collector, sysctl too, once the process holding the namespace exits', async () => {
    const leaving = await startNamespaceProcess(lab, ns);
    const exporter = await startExporter([
      `--path.procfs=/proc/${leaving.pid}`,
      '--sample.interval=200ms',
    ]);
    const successes = async () => {
      const response = await httpGet(`${exporter.url}/metrics`);
      return samplesOf(response.body, 'tcpstate_collector_success');
    };
    try {
      await waitFor(
        async () => {
          const all = await successes();
          return all.length > 0 && all.every((sample) => sample.value === 1) ? all : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, describe: () => exporter.daemon.output() },
      );
      leaving.child.kill('SIGKILL');
      await new Promise((exited) => leaving.child.once('exit', exited));
      const failed = await waitFor(
        async () => {
          const all = await successes();
          return all.every((sample) => sample.value === 0) ? all : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, describe: () => exporter.daemon.output() },
      );
      expect(failed.map((sample) => sample.labels.collector).sort()).toEqual(
        ['ephemeral', 'netstat', 'ports', 'sockets', 'sockstat', 'sysctl'].sort(),
      );
      const sysctl = exporter
        .logLines()
        .find((line) => line.msg === 'collector failing' && line.collector === 'sysctl');
      expect(String(sysctl?.error)).toBe(
        `the namespace of /proc/${leaving.pid} is gone: /proc/${leaving.pid}/net/tcp no longer exists (its process exited)`,
      );
    } finally {
      leaving.child.kill('SIGKILL');
      await exporter.daemon.stop();
    }
  });
});
