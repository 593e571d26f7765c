/**
 * deploy/systemd: the unit's hardening read from the file, `systemd-analyze verify` and
 * `systemd-analyze security --offline` on it, and the installed exporter run under the
 * unit's file-system and credential confinement. systemd does not run as PID 1 here, so that
 * last part reproduces what the unit asks for with a mount namespace instead: read-only `/`
 * (ProtectSystem=strict), a hidepid=invisible procfs (ProtectProc=invisible), read-only
 * /proc/sys (ProtectKernelTunables), an unnamed uid (DynamicUser), no capabilities and
 * no_new_privs. Seccomp and address-family filters are not reproduced.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTORS } from '../../src/collectors/registry.js';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import { daemonConfig, repoRoot } from '../../testkit/deploy/deploy-config.js';
import {
  buildAndPack,
  installGlobally,
  worldReadableTempDir,
} from '../../testkit/deploy/deploy-package.js';
import {
  expectCleanExpositionCountingListener,
  loopbackListener,
  sandboxed,
} from '../../testkit/deploy/deploy-runtime.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { sampleValue } from '../../testkit/prometheus/exposition.js';

const unitPath = join(repoRoot, 'deploy/systemd/tcpstate-exporter.service');
const defaultsPath = join(repoRoot, 'deploy/systemd/tcpstate-exporter.default');
const unitText = readFileSync(unitPath, 'utf8');

/** Section → key → values (a key may repeat); comments and blank lines dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === undefined || equals < 0) throw new Error(`unit: bad line ${line}`);
    const key = line.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** KEY="value" lines of an EnvironmentFile. */
function parseEnvironmentFile(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)="?(.*?)"?$/.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => [match[1], match[2]]);
  return Object.fromEntries(entries);
}

const service = parseUnit(unitText).get('Service') ?? new Map<string, string[]>();
const setting = (key: string): string | undefined => service.get(key)?.at(-1);
const environment = parseEnvironmentFile(readFileSync(defaultsPath, 'utf8'));

/** ExecStart as systemd runs it: `$VAR` words split from the EnvironmentFile's values. */
function execStartArgv(binary: string): string[] {
  const [, ...words] = (setting('ExecStart') ?? '').split(/\s+/);
  const expanded = words.flatMap((word) =>
    word.startsWith('$') ? (environment[word.slice(1)] ?? '').split(/\s+/) : [word],
  );
  return [binary, ...expanded.filter((word) => word !== '')];
}

describe('systemd unit hardening', () => {
  it('runs as a dynamic user with no privileges or capabilities', () => {
    expect(setting('DynamicUser')).toBe('yes');
    expect(setting('NoNewPrivileges')).toBe('yes');
    expect(setting('CapabilityBoundingSet')).toBe('');
    expect(setting('AmbientCapabilities') ?? '').toBe('');
  });

  it('sets the file-system, kernel and namespace protections', () => {
    const expected = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictNamespaces: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
      Restart: 'on-failure',
    };
    for (const [key, value] of Object.entries(expected)) expect(setting(key), key).toBe(value);
    expect(setting('RestrictAddressFamilies')?.split(/\s+/)).toEqual(
      expect.arrayContaining(['AF_INET', 'AF_INET6', 'AF_UNIX']),
    );
  });

  it('keeps the host network and /proc visible, and leaves V8 its JIT', () => {
    // Each of these would break the exporter: an empty network namespace of its own, no
    // /proc/net or /proc/sys, or a Node.js that dies at start.
    expect(service.has('PrivateNetwork')).toBe(false);
    expect(setting('ProcSubset') ?? 'all').toBe('all');
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('takes its flags from an EnvironmentFile, and the shipped defaults are valid flags', () => {
    expect(setting('EnvironmentFile')).toBe('-/etc/default/tcpstate-exporter');
    expect(setting('ExecStart')).toMatch(/^\/usr\/local\/bin\/tcpstate-exporter \$\w+$/);
    const config = daemonConfig(execStartArgv('tcpstate-exporter').slice(1));
    const defaultPort = Number(EXPORTER_FLAGS.listenAddress.default.split(':').at(-1));
    expect(config.listenAddress.port).toBe(defaultPort);
    expect(config.procfsRoot).toBe('/proc');
  });
});

describe.skipIf(
  !canRun('systemd unit checks', {
    root: true,
    commands: ['systemd-analyze', 'unshare', 'setpriv', 'promtool'],
  }),
)('systemd unit, installed', () => {
  let workDir: string;
  let binary: string;
  let listener: Server;

  beforeAll(async () => {
    workDir = worldReadableTempDir('tcpstate-systemd-');
    const { tarball } = buildAndPack(workDir);
    // The unit's ExecStart names npm's global bin: install globally, under a temp prefix.
    binary = installGlobally(tarball, join(workDir, 'prefix'));
    listener = await loopbackListener();
  }, 300_000);

  afterAll(() => {
    listener?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** The unit with ExecStart pointing at the real installed binary (verify needs it). */
  function installedUnit(): string {
    const path = join(workDir, 'tcpstate-exporter.service');
    writeFileSync(path, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${binary}`));
    return path;
  }

  it('passes systemd-analyze verify without a single complaint', () => {
    const result = spawnSync('systemd-analyze', ['verify', installedUnit()], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
  });

  it('rates as OK or better in systemd-analyze security', () => {
    const result = spawnSync(
      'systemd-analyze',
      ['security', '--offline=true', '--no-pager', installedUnit()],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const exposure = /Overall exposure level for \S+: ([\d.]+)/.exec(result.stdout)?.[1];
    expect(exposure, result.stdout + result.stderr).toBeDefined();
    expect(Number(exposure)).toBeLessThanOrEqual(3.5);
  });

  it('samples every collector under the unit confinement', () => {
    const wrapped = sandboxed([...execStartArgv(binary), '--once'], {
      user: '61234:61234',
      protectProc: true,
    });
    const result = spawnSync(wrapped.file, wrapped.args, {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expectCleanExpositionCountingListener(result.stdout);
    // The unit runs the default collectors; --collector.netns needs the drop-in's
    // capabilities (test/deploy/netns-capabilities.test.ts).
    const enabled = COLLECTORS.filter((collector) => collector.enabledByDefault);
    for (const { name: collector } of enabled) {
      expect(
        sampleValue(result.stdout, 'tcpstate_collector_success', { collector }),
        collector,
      ).toBe(1);
    }
  });
});
