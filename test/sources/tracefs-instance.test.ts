import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/sources/kernel-files.js';
import {
  DEFAULT_TRACEFS,
  instanceName,
  parseLostEvents,
  TracefsInstance,
} from '../../src/sources/tracefs-instance.js';
import { canRun } from '../../testkit/kernel/capabilities.js';

const EVENTS = [{ event: 'syscalls/sys_exit_bind', filter: 'ret == -98' }];

describe('parseLostEvents', () => {
  it('adds the overrun and dropped counts of a per_cpu stats file', () => {
    const stats = [
      'entries: 3',
      'overrun: 7',
      'commit overrun: 1',
      'bytes: 120',
      'oldest event ts: 11034.357495',
      'now ts: 11035.388197',
      'dropped events: 2',
      'read events: 3',
    ].join('\n');
    expect(parseLostEvents(stats)).toBe(9);
  });
});

describe('TracefsInstance without tracefs', () => {
  it('fails with a SourceError naming the path, mounting nothing but the default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-tracefs-'));
    try {
      expect(() => TracefsInstance.open(dir, EVENTS)).toThrow(SourceError);
      expect(() => TracefsInstance.open(dir, EVENTS)).toThrow(`no tracefs at ${dir}`);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe.skipIf(!canRun('tracefs instances', { root: true }))('TracefsInstance', () => {
  const pidNs = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  const made: string[] = [];
  const instances = () => join(DEFAULT_TRACEFS, 'instances');
  /** A directory under instances/ as another exporter would have left it. */
  function leave(name: string): string {
    const path = join(instances(), name);
    mkdirSync(path);
    made.push(path);
    return path;
  }

  afterEach(() => {
    for (const path of made.splice(0)) if (existsSync(path)) rmdirSync(path);
  });

  it('filters and enables each event in its own instance, and removes it on close', () => {
    const { instance } = TracefsInstance.open(DEFAULT_TRACEFS, EVENTS);
    made.push(instance.path);
    try {
      expect(instance.path).toMatch(
        new RegExp(`^${instances()}/tcpstate-exporter-${pidNs}-${process.pid}-\\d+$`),
      );
      const event = join(instance.path, 'events/syscalls/sys_exit_bind');
      expect(readFileSync(join(event, 'filter'), 'utf8').trim()).toBe('ret == -98');
      expect(readFileSync(join(event, 'enable'), 'utf8').trim()).toBe('1');
      // Only the asked-for event: the connect exit stays off in this instance.
      const other = join(instance.path, 'events/syscalls/sys_exit_connect/enable');
      expect(readFileSync(other, 'utf8').trim()).toBe('0');
      // Nothing pending: an empty read, at once.
      expect(instance.read(Buffer.alloc(4096)).length).toBe(0);
    } finally {
      instance.close();
    }
    expect(existsSync(instance.path)).toBe(false);
    instance.close();
  });

  it('keeps instances apart: two in one process, each removed on its own', () => {
    const first = TracefsInstance.open(DEFAULT_TRACEFS, EVENTS).instance;
    const second = TracefsInstance.open(DEFAULT_TRACEFS, EVENTS).instance;
    made.push(first.path, second.path);
    expect(second.path).not.toBe(first.path);
    first.close();
    expect(existsSync(second.path)).toBe(true);
    second.close();
  });

  it('removes the instances of dead exporters and keeps those of live ones', () => {
    const exited = spawnSync('true').pid;
    const dead = leave(instanceName(pidNs, exited, 1));
    // A dead process that had this pid, before this one.
    const ownPid = leave(instanceName(pidNs, process.pid, 0));
    const live = leave(instanceName(pidNs, process.ppid, 1));
    // Another pid namespace's: removable only while nobody reads it.
    const elsewhereIdle = leave(instanceName('1', 4242, 1));
    const elsewhereRead = leave(instanceName('2', 4242, 1));
    const reader = openSync(join(elsewhereRead, 'trace_pipe'), 'r');
    try {
      const { instance, staleRemoved } = TracefsInstance.open(DEFAULT_TRACEFS, EVENTS);
      made.push(instance.path);
      instance.close();
      expect(staleRemoved.sort()).toEqual(
        [
          instanceName(pidNs, exited, 1),
          instanceName(pidNs, process.pid, 0),
          instanceName('1', 4242, 1),
        ].sort(),
      );
      for (const gone of [dead, ownPid, elsewhereIdle]) expect(existsSync(gone)).toBe(false);
      for (const kept of [live, elsewhereRead]) expect(existsSync(kept)).toBe(true);
    } finally {
      closeSync(reader);
    }
  });

  it('fails clearly for an event the kernel does not have, leaving no instance behind', () => {
    const missing = [{ event: 'syscalls/sys_exit_no_such_call', filter: 'ret == -1' }];
    const before = readdirSync(instances()).filter((name) => name.includes(`-${process.pid}-`));
    expect(() => TracefsInstance.open(DEFAULT_TRACEFS, missing)).toThrow(
      'no syscalls/sys_exit_no_such_call event',
    );
    const after = readdirSync(instances()).filter((name) => name.includes(`-${process.pid}-`));
    expect(after).toEqual(before);
  });
});
