/**
 * Follows CLOSE_WAIT sockets from sample to sample by inode (printed on every socket a
 * program holds), so a socket whose program never calls close() can be told from a busy
 * server's many short CLOSE_WAIT: one seen in CLOSE_WAIT for a whole duration is stuck.
 * Memory: one entry per socket in CLOSE_WAIT in the latest sample, whatever the history.
 * No Map: each walk's inodes are sorted (one typed-array sort) and merged with the last
 * walk's, which costs a fraction of the hash operations per socket.
 */

/** Calls `stuck` for each socket of the sample in CLOSE_WAIT for at least the duration. */
export type StuckVisitor = (localPort: number, remotePort: number) => void;

/** A sort key is inode × INDEX_SPAN + the socket's index in the walk: exact below 2^53. */
const INDEX_SPAN = 2 ** 21;
/** Sockets in CLOSE_WAIT followed per walk; beyond, the rest are not followed. */
export const MAX_FOLLOWED = INDEX_SPAN;

export class CloseWaitTracker {
  private count = 0;
  private inodes = new Uint32Array(256);
  private localPorts = new Uint16Array(256);
  private remotePorts = new Uint16Array(256);
  private keys = new Float64Array(256);
  /** The last walk's sockets, ascending by inode, and when each was first seen (ms). */
  private seenInodes = new Float64Array(256);
  private seenFirst = new Float64Array(256);
  private seenCount = 0;
  private nextInodes = new Float64Array(256);
  private nextFirst = new Float64Array(256);

  /** Starts a sample's walk. */
  begin(): void {
    this.count = 0;
  }

  /** A CLOSE_WAIT socket of the walk; inode 0 (no program holds it yet) cannot be followed. */
  add(inode: number, localPort: number, remotePort: number): void {
    if (inode === 0 || this.count === MAX_FOLLOWED) return;
    if (this.count === this.inodes.length) this.grow();
    const i = this.count++;
    this.inodes[i] = inode;
    this.localPorts[i] = localPort;
    this.remotePorts[i] = remotePort;
  }

  /** Sockets the last walk left in CLOSE_WAIT, each once. */
  get followed(): number {
    return this.seenCount;
  }

  /**
   * Ends the walk at `nowMs`: sockets no longer in CLOSE_WAIT are forgotten (a socket the
   * walk missed under churn starts over), and `stuck` gets each one first seen at least
   * `afterMs` ago. A socket the walk saw twice counts once.
   */
  finish(nowMs: number, afterMs: number, stuck: StuckVisitor): void {
    const count = this.count;
    const keys = this.keys.subarray(0, count);
    for (let i = 0; i < count; i++) keys[i] = (this.inodes[i] as number) * INDEX_SPAN + i;
    keys.sort();
    const { seenInodes, seenFirst, seenCount, nextInodes, nextFirst } = this;
    let kept = 0;
    let at = 0;
    let last = -1;
    for (let k = 0; k < count; k++) {
      const key = keys[k] as number;
      const inode = Math.floor(key / INDEX_SPAN);
      if (inode === last) continue;
      last = inode;
      while (at < seenCount && (seenInodes[at] as number) < inode) at++;
      const first = at < seenCount && seenInodes[at] === inode ? (seenFirst[at] as number) : nowMs;
      nextInodes[kept] = inode;
      nextFirst[kept] = first;
      kept++;
      if (nowMs - first >= afterMs) {
        const i = key - inode * INDEX_SPAN;
        stuck(this.localPorts[i] as number, this.remotePorts[i] as number);
      }
    }
    this.seenInodes = nextInodes;
    this.seenFirst = nextFirst;
    this.nextInodes = seenInodes;
    this.nextFirst = seenFirst;
    this.seenCount = kept;
  }

  /** Every column four times larger at once, the last walk's included. */
  private grow(): void {
    const capacity = this.inodes.length * 4;
    this.inodes = grown(this.inodes, new Uint32Array(capacity));
    this.localPorts = grown(this.localPorts, new Uint16Array(capacity));
    this.remotePorts = grown(this.remotePorts, new Uint16Array(capacity));
    this.keys = new Float64Array(capacity);
    this.seenInodes = grown(this.seenInodes, new Float64Array(capacity));
    this.seenFirst = grown(this.seenFirst, new Float64Array(capacity));
    this.nextInodes = new Float64Array(capacity);
    this.nextFirst = new Float64Array(capacity);
  }
}

function grown<T extends Uint32Array | Uint16Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
