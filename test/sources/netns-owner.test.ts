import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OwnerResolver,
  parseCgroupIdentity,
  parseContainerLogNames,
  parsePodDirectories,
} from '../../src/sources/netns-owner.js';

const UID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const ID = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8);

describe('parseCgroupIdentity', () => {
  it.each([
    [
      'kubelet systemd driver, cgroup v2',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${ID}.scope\n`,
      { podUid: UID, containerId: ID },
    ],
    [
      'kubelet systemd driver, guaranteed QoS, CRI-O',
      `0::/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/crio-${ID}.scope\n`,
      { podUid: UID, containerId: ID },
    ],
    [
      'kubelet cgroupfs driver, cgroup v1 (found in any controller line)',
      `12:pids:/kubepods/besteffort/pod${UID}/${ID}\n11:memory:/kubepods/besteffort/pod${UID}/${ID}\n0::/\n`,
      { podUid: UID, containerId: ID },
    ],
    ['Docker, cgroupfs driver', `0::/docker/${ID}\n`, { containerId: ID }],
    ['Docker, systemd driver', `0::/system.slice/docker-${ID}.scope\n`, { containerId: ID }],
    ['a host process', '0::/system.slice/nginx.service\n', {}],
    ['a pod sandbox with no container level', `0::/kubepods/pod${UID}\n`, { podUid: UID }],
  ])('%s', (_name, text, expected) => {
    expect(parseCgroupIdentity(text)).toEqual(expected);
  });
});

describe('kubelet log directories', () => {
  it('parses pods/<namespace>_<pod>_<uid> and skips other names', () => {
    const pods = parsePodDirectories([`shop_web-7d9f8-x2x4q_${UID}`, 'README', 'a_b_c_d']);
    expect([...pods]).toEqual([[UID, { namespace: 'shop', pod: 'web-7d9f8-x2x4q' }]]);
  });

  it('parses containers/<pod>_<namespace>_<container>-<id>.log', () => {
    const containers = parseContainerLogNames([
      `web-7d9f8-x2x4q_shop_php-fpm-${ID}.log`,
      'web_shop_nginx-short.log',
    ]);
    expect([...containers]).toEqual([[ID, 'php-fpm']]);
  });
});

describe('OwnerResolver', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'netns-owner-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function writeCgroup(pid: number, text: string): void {
    mkdirSync(join(root, 'proc', String(pid)), { recursive: true });
    writeFileSync(join(root, 'proc', String(pid), 'cgroup'), text);
  }

  it('joins the cgroup with the pod-logs tree, waits for a late log entry, and forgets gone namespaces', () => {
    const logs = join(root, 'logs');
    mkdirSync(join(logs, 'pods', `shop_web-0_${UID}`), { recursive: true });
    mkdirSync(join(logs, 'containers'), { recursive: true });
    writeCgroup(10, `0::/kubepods/burstable/pod${UID}/${ID}\n`);
    const composeId = ID.replace('a', 'c');
    writeCgroup(20, `0::/docker/${composeId}\n`);
    const owners = new OwnerResolver(join(root, 'proc'), logs);
    owners.beginRound([1, 2]);
    // The container's log link is not there yet: the short ID stands in, looked up again.
    expect(owners.resolve(1, 10)).toEqual({
      pod: 'web-0',
      namespace: 'shop',
      container: ID.slice(0, 12),
      containerId: ID,
    });
    expect(owners.resolve(2, 20)).toEqual({
      pod: '',
      namespace: '',
      container: composeId.slice(0, 12),
      containerId: composeId,
    });
    writeFileSync(join(logs, 'containers', `web-0_shop_web-${ID}.log`), '');
    owners.beginRound([1, 2]);
    expect(owners.resolve(1, 10)?.container).toBe('web');
    // Cached: the process may be gone, the namespace's owner stays.
    rmSync(join(root, 'proc', '10'), { recursive: true });
    expect(owners.resolve(1, 10)?.container).toBe('web');
    owners.beginRound([2]);
    expect(owners.resolve(1, 10)).toBeUndefined();
  });
});
