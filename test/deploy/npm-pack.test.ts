/**
 * What users get from the npm registry: the packed tarball installs into an empty directory
 * and its `tcpstate-exporter --once` prints a clean exposition of this machine's sockets.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAndPack,
  installLocally,
  type PackedPackage,
  worldReadableTempDir,
} from '../../testkit/deploy/deploy-package.js';
import {
  expectCleanExpositionCountingListener,
  loopbackListener,
} from '../../testkit/deploy/deploy-runtime.js';
import { canRun } from '../../testkit/kernel/capabilities.js';

describe.skipIf(!canRun('npm pack install', { commands: ['promtool'] }))('npm pack', () => {
  let workDir: string;
  let packed: PackedPackage;
  let installDir: string;
  let bin: string;
  let listener: Server;

  beforeAll(async () => {
    workDir = worldReadableTempDir('tcpstate-pack-');
    packed = buildAndPack(workDir);
    installDir = worldReadableTempDir('tcpstate-install-');
    bin = installLocally(packed.tarball, installDir);
    listener = await loopbackListener();
  }, 300_000);

  afterAll(() => {
    listener?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    if (installDir) rmSync(installDir, { recursive: true, force: true });
  });

  it('ships the built CLI, the live page assets and no sources or tests', () => {
    expect(packed.files).toContain('dist/main.js');
    expect(packed.files).toContain('package.json');
    const unexpected = packed.files.filter(
      (file) =>
        !/^(dist\/.*\.js(\.map)?|dist\/page\/[\w.-]+\.(css|svg)|package\.json|README\.md|LICENSE)$/.test(
          file,
        ),
    );
    expect(unexpected).toEqual([]);
  });

  it('installs a working tcpstate-exporter bin whose --once counts our listener', () => {
    const result = spawnSync(bin, ['--once'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expectCleanExpositionCountingListener(result.stdout);
  });

  it('answers --version with the package version', () => {
    const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    const version = /tcpstate-exporter-(.+)\.tgz$/.exec(packed.tarball)?.[1];
    expect(result.stdout).toContain(version);
  });
});
