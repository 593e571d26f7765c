/**
 * Reading a namespace's sysctls by entering it: against `sysctl -n` run inside each
 * namespace (real kernel, root), without privileges (setpriv to nobody), and the child's
 * failure modes with a substitute nsenter (no root needed).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assumedNamespaceSysctls,
  type NamespaceReaderOptions,
  type NamespaceReadFailure,
  type NamespaceSysctls,
  NsenterSysctlReader,
} from '../../src/sources/netns-sysctl.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';
import { NAMESPACE_SYSCTL_NAMES } from '../../src/sources/sysctl.js';
import { runCommand } from '../../testkit/exporter/exporter-cli.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import {
  asUser,
  type NamespaceProcess,
  NOBODY,
  startNamespaceProcess,
} from '../../testkit/kernel/namespace-process.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';

const READ_MAIN = fileURLToPath(
  new URL('../../testkit/programs/netns-sysctl-read-main.ts', import.meta.url),
);
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TIMEOUT_MS = 10_000;

/** One read with a reader of its own, closed after it. */
async function readNamespaceSysctls(
  nsFile: string,
  options: NamespaceReaderOptions,
): Promise<NamespaceSysctls> {
  const reader = new NsenterSysctlReader(options);
  try {
    return await reader.read(nsFile);
  } finally {
    reader.close();
  }
}

/** What each namespace is set to; `defaults` is left as a new namespace has it. */
const SETTINGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  narrow: {
    'net.ipv4.ip_local_port_range': '40000 40999',
    'net.ipv4.ip_local_reserved_ports': '40100-40110,40500',
    'net.ipv4.tcp_tw_reuse': '0',
    'net.ipv4.tcp_tw_reuse_delay': '5',
    'net.ipv4.tcp_fin_timeout': '30',
    'net.ipv4.tcp_max_tw_buckets': '999',
    'net.core.somaxconn': '55',
  },
  reusing: {
    'net.ipv4.ip_local_port_range': '20000 20499',
    'net.ipv4.tcp_tw_reuse': '1',
    'net.ipv4.tcp_tw_reuse_delay': '250',
    'net.ipv4.tcp_timestamps': '0',
    'net.ipv4.tcp_syncookies': '2',
    'net.ipv4.tcp_max_syn_backlog': '77',
  },
  defaults: {},
};

/** The expected reading of `sysctl -n` texts (one per name, in order) as NamespaceSysctls. */
/** The names this kernel has (tcp_tw_recycle went in 4.12): `sysctl -n` fails on any other. */
const PRESENT_NAMES = NAMESPACE_SYSCTL_NAMES.filter((name) =>
  existsSync(join('/proc/sys', ...name.split('.'))),
);

function expectedFromOracle(texts: readonly string[]) {
  const values: Record<string, number> = {};
  let range = { low: 0, high: 0 };
  let reserved = '';
  PRESENT_NAMES.forEach((name, index) => {
    const text = (texts[index] ?? '').trim();
    if (name === 'net.ipv4.ip_local_port_range') {
      const [low, high] = text.split(/\s+/).map(Number) as [number, number];
      range = { low, high };
      values[`${name}.low`] = low;
      values[`${name}.high`] = high;
    } else if (name === 'net.ipv4.ip_local_reserved_ports') {
      reserved = text;
    } else {
      values[name] = Number(text);
    }
  });
  return { values, range, reserved };
}

describe.skipIf(
  !canRun('namespace sysctls read by entering the namespace', {
    netns: true,
    commands: ['nsenter', 'setpriv', 'sysctl'],
  }),
)('namespace sysctls on the real kernel', () => {
  let lab: NetnsLab;
  const namespaces = new Map<string, { ns: string; process: NamespaceProcess }>();

  beforeAll(async () => {
    lab = new NetnsLab('tns');
    for (const [role, settings] of Object.entries(SETTINGS)) {
      const ns = lab.addNamespace(role);
      for (const [name, value] of Object.entries(settings)) lab.setSysctl(ns, name, value);
      namespaces.set(role, { ns, process: await startNamespaceProcess(lab, ns) });
    }
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  });

  function oracle(role: string) {
    const { ns } = namespaces.get(role) ?? {};
    if (ns === undefined) throw new Error(`no namespace ${role}`);
    return lab.exec(ns, 'sysctl', ['-n', ...PRESENT_NAMES]).split('\n');
  }

  function expectMatches(read: NamespaceSysctls, role: string): void {
    const expected = expectedFromOracle(oracle(role));
    expect(read.assumed).toBe(false);
    expect(read.sysctls.values).toEqual(expected.values);
    expect(read.sysctls.portRange).toEqual(expected.range);
    expect(read.ephemeral.range).toEqual(expected.range);
    expect(read.ephemeral.reuse).toEqual({
      twReuse: expected.values['net.ipv4.tcp_tw_reuse'],
      twReuseDelayMs: expected.values['net.ipv4.tcp_tw_reuse_delay'],
      timestamps: expected.values['net.ipv4.tcp_timestamps'],
    });
    // What was set came through the kernel unchanged (the oracle is not just echoing defaults).
    for (const [name, value] of Object.entries(SETTINGS[role] ?? {})) {
      const index = PRESENT_NAMES.indexOf(name);
      expect(oracle(role)[index]?.trim().replace(/\s+/g, ' '), name).toBe(value);
    }
  }

  it('reads every namespace at once, each as `sysctl -n` inside it shows it', async () => {
    const roles = [...namespaces.keys()];
    const reads = await Promise.all(
      roles.map((role) =>
        readNamespaceSysctls(namespaces.get(role)?.process.nsFile ?? '', { timeoutMs: TIMEOUT_MS }),
      ),
    );
    for (const [index, role] of roles.entries()) {
      expectMatches(reads[index] as NamespaceSysctls, role);
    }
    expect(reads[0]?.sysctls.reservedPorts).toEqual([
      [40100, 40110],
      [40500, 40500],
    ]);
    expect(reads[0]?.ephemeral.reserved).toEqual(reads[0]?.sysctls.reservedPorts);
    expect(reads[1]?.sysctls.reservedPorts).toEqual([]);
  });

  it('reads them through the cache keyed by namespace inode, and follows a change', async () => {
    const cache = new NamespaceSysctlCache({ refreshMs: 1 });
    try {
      for (const [role, { process }] of namespaces) {
        expectMatches(await cache.fresh(process.nsInode, process.nsFile), role);
      }
      const { ns, process } = namespaces.get('reusing') ?? {};
      if (ns === undefined || process === undefined) throw new Error('no namespace');
      lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', '21000 21999');
      await new Promise((resolve) => setTimeout(resolve, 5));
      const changed = await cache.fresh(process.nsInode, process.nsFile);
      expect(changed.ephemeral.range).toEqual({ low: 21000, high: 21999 });
      lab.setSysctl(ns, 'net.ipv4.ip_local_port_range', '20000 20499');
    } finally {
      cache.close();
    }
  });

  it("assumes exactly what a new namespace has: the defaults equal a fresh namespace's values", async () => {
    const fresh = namespaces.get('defaults')?.process.nsFile ?? '';
    const read = await readNamespaceSysctls(fresh, { timeoutMs: TIMEOUT_MS });
    const assumed = assumedNamespaceSysctls('test');
    expect(assumed.ephemeral).toEqual(read.ephemeral);
    for (const [name, value] of Object.entries(assumed.sysctls.values)) {
      expect(value, name).toBe(read.sysctls.values[name]);
    }
    // Only the hash-sized ones are left out.
    expect(
      Object.keys(read.sysctls.values).filter((name) => !(name in assumed.sysctls.values)),
    ).toEqual([
      'net.ipv4.tcp_max_tw_buckets',
      'net.ipv4.tcp_ehash_entries',
      'net.ipv4.tcp_max_syn_backlog',
    ]);
  });

  it('fails a namespace whose process has gone, naming it', async () => {
    const { ns } = namespaces.get('narrow') ?? {};
    if (ns === undefined) throw new Error('no namespace');
    const gone = await startNamespaceProcess(lab, ns);
    const exited = new Promise((resolve) => gone.child.once('exit', resolve));
    gone.child.kill('SIGKILL');
    await exited;
    await expect(
      readNamespaceSysctls(gone.nsFile, { timeoutMs: TIMEOUT_MS }),
    ).rejects.toMatchObject({ failure: 'failed', message: expect.stringContaining(gone.nsFile) });
  });

  interface UnprivilegedRead {
    readonly rounds: NamespaceSysctls[][];
    readonly assumed: [string, NamespaceReadFailure][];
  }

  async function readAsNobody(nsFiles: string[], checkCapability: boolean) {
    const [file, args] = asUser(NOBODY, process.execPath, [
      '--import',
      TSX_LOADER,
      READ_MAIN,
      JSON.stringify({ nsFiles, rounds: 3, checkCapability }),
    ]);
    const run = await runCommand(file, args);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as UnprivilegedRead;
  }

  it('without CAP_SYS_ADMIN starts no child, assumes the defaults and says so once', async () => {
    const nsFiles = [...namespaces.values()].map(({ process }) => process.nsFile);
    const result = await readAsNobody(nsFiles, true);
    const defaults = assumedNamespaceSysctls('no CAP_SYS_ADMIN');
    for (const round of result.rounds) {
      for (const read of round) {
        expect(read).toMatchObject({
          assumed: true,
          reason: expect.stringMatching(/CAP_SYS_ADMIN/),
        });
        expect(read.ephemeral).toEqual(defaults.ephemeral);
        expect(read.sysctls.values).toEqual(defaults.sysctls.values);
      }
    }
    expect(result.assumed).toEqual([[expect.stringMatching(/CAP_SYS_ADMIN/), 'unavailable']]);
  });

  it("when the kernel refuses (EACCES on root's process, EPERM on nobody's), assumes the defaults and says so once", async () => {
    const { ns } = namespaces.get('narrow') ?? {};
    if (ns === undefined) throw new Error('no namespace');
    const own = await startNamespaceProcess(lab, ns, NOBODY);
    const rootProcess = namespaces.get('narrow')?.process.nsFile ?? '';
    const result = await readAsNobody([rootProcess, own.nsFile], false);
    expect(result.rounds).toHaveLength(3);
    for (const [rootRead, ownRead] of result.rounds) {
      expect(rootRead).toMatchObject({
        assumed: true,
        reason: expect.stringMatching(/Permission denied/),
      });
      expect(ownRead).toMatchObject({
        assumed: true,
        reason: expect.stringMatching(/Operation not permitted/),
      });
      expect(ownRead?.ephemeral.range).toEqual({ low: 32768, high: 60999 });
    }
    // Six refusals over three rounds, one log line.
    expect(result.assumed).toEqual([[expect.stringContaining(rootProcess), 'denied']]);
  });
});

describe('the nsenter child failing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tns-fake-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in for nsenter: a shell script. */
  function fakeNsenter(name: string, script: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('is killed at the timeout and fails that read', async () => {
    const nsenter = fakeNsenter('hangs', 'exec sleep 30');
    const started = Date.now();
    await expect(
      readNamespaceSysctls('/proc/1/ns/net', { timeoutMs: 300, nsenter }),
    ).rejects.toMatchObject({ failure: 'failed', message: expect.stringMatching(/within 300 ms/) });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('is "unavailable" when nsenter is not installed', async () => {
    await expect(
      readNamespaceSysctls('/proc/1/ns/net', { timeoutMs: 5_000, nsenter: join(dir, 'absent') }),
    ).rejects.toMatchObject({ failure: 'unavailable' });
  });

  it('reads a kernel without tcp_tw_reuse_delay (grep exits 2 for the missing file)', async () => {
    const nsenter = fakeNsenter(
      'old-kernel',
      [
        "printf '/proc/sys/net/ipv4/ip_local_port_range:1024\\t4999\\n'",
        "printf '/proc/sys/net/ipv4/ip_local_reserved_ports:\\n'",
        ...['tcp_tw_reuse:1', 'tcp_max_tw_buckets:10', 'tcp_fin_timeout:60', 'tcp_timestamps:1']
          .concat(['tcp_syncookies:1', 'tcp_max_syn_backlog:128'])
          .map((line) => `echo /proc/sys/net/ipv4/${line}`),
        'echo /proc/sys/net/core/somaxconn:128',
        'exit 2',
      ].join('\n'),
    );
    const read = await readNamespaceSysctls('/proc/1/ns/net', { timeoutMs: 5_000, nsenter });
    expect(read.ephemeral.range).toEqual({ low: 1024, high: 4999 });
    expect(read.ephemeral.reuse).toEqual({ twReuse: 1, twReuseDelayMs: 1000, timestamps: 1 });
    expect(read.sysctls.values['net.ipv4.tcp_tw_reuse_delay']).toBeUndefined();
    expect(read.sysctls.values['net.core.somaxconn']).toBe(128);
  });

  it('fails with the path on a value that is not a number', async () => {
    const nsenter = fakeNsenter(
      'garbage',
      "printf '/proc/sys/net/ipv4/ip_local_port_range:1024 4999\\n/proc/sys/net/ipv4/tcp_tw_reuse:yes\\n'",
    );
    await expect(
      readNamespaceSysctls('/proc/1/ns/net', { timeoutMs: 5_000, nsenter }),
    ).rejects.toMatchObject({
      failure: 'failed',
      message: 'net.ipv4.tcp_tw_reuse in /proc/1/ns/net: "yes" is not a number',
    });
  });
});
