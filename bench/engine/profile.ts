/**
 * Where the CPU goes while `fn` runs: V8's sampling profiler over just those calls
 * (node:inspector, the same data as `node --cpu-prof`), summed by function self time.
 */
import { Session } from 'node:inspector/promises';

export interface ProfileEntry {
  readonly function: string;
  /** File, last two path parts (line numbers are not kept under tsx). */
  readonly location: string;
  readonly selfShare: number;
}

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
  };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Calls `fn` `runs` times under the profiler; returns the `top` functions by self time. */
export async function profileCalls(
  fn: () => void,
  runs: number,
  top = 10,
): Promise<ProfileEntry[]> {
  // Only samples under this frame count, and GC: not the inspector's own work. A
  // declaration outside any block, so the profiler sees its name under tsx too.
  function profiledCalls(): void {
    for (let run = 0; run < runs; run++) fn();
  }
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    profiledCalls();
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    return summarise(profile, top);
  } finally {
    session.disconnect();
  }
}

/** Ids of the nodes at or below a `profiledCalls` frame, and of GC nodes. */
function countedNodes(profile: Profile): Set<number> {
  const counted = new Set<number>();
  const visit = (node: ProfileNode, inside: boolean) => {
    const name = node.callFrame.functionName;
    const here = inside || name === 'profiledCalls';
    if (here || name === '(garbage collector)') counted.add(node.id);
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next !== undefined) visit(next, here);
    }
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const root = profile.nodes[0];
  if (root !== undefined) visit(root, false);
  return counted;
}

function summarise(profile: Profile, top: number): ProfileEntry[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const counted = countedNodes(profile);
  const selfTime = new Map<string, { entry: Omit<ProfileEntry, 'selfShare'>; time: number }>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const node = nodes.get(id);
    const time = profile.timeDeltas[index] ?? 0;
    if (node === undefined || !counted.has(id)) return;
    const frame = node.callFrame;
    total += time;
    const file = frame.url.split('/').slice(-2).join('/');
    const location = frame.url.startsWith('wasm://') ? 'wasm' : file === '' ? 'native' : file;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${name} ${location}`;
    const current = selfTime.get(key) ?? { entry: { function: name, location }, time: 0 };
    current.time += time;
    selfTime.set(key, current);
  });
  return [...selfTime.values()]
    .sort((a, b) => b.time - a.time)
    .slice(0, top)
    .map(({ entry, time }) => ({ ...entry, selfShare: total > 0 ? time / total : 0 }));
}
