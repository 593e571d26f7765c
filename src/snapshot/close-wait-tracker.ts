/**
 * Follows CLOSE_WAIT sockets from sample to sample by inode (printed on every socket a
 * program holds), so a socket whose program never calls close() can be told from a busy
 * server's many short CLOSE_WAIT: one seen in CLOSE_WAIT for a whole duration is stuck.
 * Memory: one entry per socket in CLOSE_WAIT in the latest sample, whatever the history.
 */

/** Calls `stuck` for each socket of the sample in CLOSE_WAIT for at least the duration. */
export type StuckVisitor = (localPort: number, remotePort: number) => void;

export class CloseWaitTracker {
  /** inode → when it was first seen in CLOSE_WAIT (ms, the sampler's clock). */
  private firstSeen = new Map<number, number>();
  private spare = new Map<number, number>();
  private count = 0;
  private inodes = new Int32Array(256);
  private localPorts = new Uint16Array(256);
  private remotePorts = new Uint16Array(256);

  /** Starts a sample's walk. */
  begin(): void {
    this.count = 0;
  }

  /** A CLOSE_WAIT socket of the walk; inode 0 (no program holds it yet) cannot be followed. */
  add(inode: number, localPort: number, remotePort: number): void {
    if (inode === 0) return;
    if (this.count === this.inodes.length) this.grow();
    const i = this.count++;
    this.inodes[i] = inode;
    this.localPorts[i] = localPort;
    this.remotePorts[i] = remotePort;
  }

  /**
   * Ends the walk at `nowMs`: sockets no longer in CLOSE_WAIT are forgotten (a socket the
   * walk missed under churn starts over), and `stuck` gets each one first seen at least
   * `afterMs` ago. A socket the walk saw twice counts once.
   */
  finish(nowMs: number, afterMs: number, stuck: StuckVisitor): void {
    const seen = this.spare;
    seen.clear();
    for (let i = 0; i < this.count; i++) {
      const inode = this.inodes[i] as number;
      if (seen.has(inode)) continue;
      const first = this.firstSeen.get(inode) ?? nowMs;
      seen.set(inode, first);
      if (nowMs - first >= afterMs)
        stuck(this.localPorts[i] as number, this.remotePorts[i] as number);
    }
    this.spare = this.firstSeen;
    this.spare.clear();
    this.firstSeen = seen;
  }

  private grow(): void {
    const capacity = this.inodes.length * 4;
    const inodes = new Int32Array(capacity);
    inodes.set(this.inodes);
    this.inodes = inodes;
    const localPorts = new Uint16Array(capacity);
    localPorts.set(this.localPorts);
    this.localPorts = localPorts;
    const remotePorts = new Uint16Array(capacity);
    remotePorts.set(this.remotePorts);
    this.remotePorts = remotePorts;
  }
}
