import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/sources/kernel-files.js';
import { discoverNamespaces } from '../../src/sources/netns-discovery.js';
import { writeNodeProcfs } from '../../testkit/kernel/node-procfs.js';

describe('discoverNamespaces', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'netns-discovery-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('groups processes by their net/tcp inode, leaves out pid 1s namespace and skips pause', () => {
    writeNodeProcfs(root, [
      { pid: 1, comm: 'systemd', netns: 'node' },
      { pid: 2, comm: 'kthreadd', netns: 'node' },
      { pid: 100, comm: 'pause', netns: 'pod', nsInode: 4026532500 },
      { pid: 120, comm: 'nginx', netns: 'pod', nsInode: 4026532500 },
      { pid: 130, comm: 'php-fpm', netns: 'pod', nsInode: 4026532500 },
      { pid: 200, comm: 'pause', netns: 'sandbox', nsInode: 4026532600 },
      // No ns/net link (no ptrace access): the net/tcp inode names the namespace.
      { pid: 300, comm: 'postgres', netns: 'compose' },
    ]);
    const { namespaces, vanished } = discoverNamespaces(root);
    expect(vanished).toBe(0);
    expect(namespaces).toEqual(
      [
        { inode: 4026532500, pid: 120, process: 'nginx' },
        { inode: 4026532600, pid: 200, process: 'pause' },
        { inode: statSync(join(root, '300/net/tcp')).ino, pid: 300, process: 'postgres' },
      ].sort((a, b) => a.inode - b.inode),
    );
  });

  it('counts a process gone between listing and reading, and ignores what is not a pid', () => {
    writeNodeProcfs(root, [
      { pid: 1, comm: 'init', netns: 'node' },
      { pid: 50, comm: 'app', netns: 'a', nsInode: 4026532700 },
    ]);
    // Listed, but its net/ is gone: as when the process exits (or is a zombie).
    mkdirSync(join(root, '51'));
    mkdirSync(join(root, 'self'));
    mkdirSync(join(root, '0123'));
    const { namespaces, vanished } = discoverNamespaces(root);
    expect(namespaces.map((ns) => ns.pid)).toEqual([50]);
    expect(vanished).toBe(1);
  });

  it("leaves out the namespace the exporter samples as the node's (<procfs>/self)", () => {
    writeNodeProcfs(root, [
      { pid: 1, comm: 'init', netns: 'node' },
      { pid: 40, comm: 'tcpstate-exporter', netns: 'own', nsInode: 4026532800 },
      { pid: 41, comm: 'sh', netns: 'own', nsInode: 4026532800 },
      { pid: 50, comm: 'app', netns: 'a', nsInode: 4026532700 },
    ]);
    expect(
      discoverNamespaces(root)
        .namespaces.map((ns) => ns.pid)
        .sort(),
    ).toEqual([40, 50]);
    symlinkSync('40', join(root, 'self'));
    expect(discoverNamespaces(root).namespaces.map((ns) => ns.pid)).toEqual([50]);
  });

  it('fails when the root has no pid 1 to tell the node namespace by', () => {
    expect(() => discoverNamespaces(root)).toThrow(SourceError);
    expect(() => discoverNamespaces(join(root, 'missing'))).toThrow(/cannot/);
  });
});
