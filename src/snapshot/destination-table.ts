/**
 * Open-addressing hash table of destinations (local address, remote address, remote
 * port) in typed arrays, so counting ephemeral ports allocates nothing per socket.
 * A key is 9 signed 32-bit words: local address (4), remote address (4), remote port
 * with bit 16 set for IPv6. IPv4 keys use word 0 of each address and zeros elsewhere.
 */
export const KEY_WORDS = 9;
const IPV6_FLAG = 0x10000;

function mix(hash: number, word: number): number {
  const mixed = Math.imul(hash ^ word, 0x85ebca6b);
  return mixed ^ (mixed >>> 15);
}

function finalMix(hash: number): number {
  return Math.imul(hash, 0xc2b2ae35) ^ (hash >>> 16);
}

/** The hash of an IPv4 key, from the only words it can differ in (its other six are zero). */
function hashIpv4(local: number, remote: number, remotePort: number): number {
  return finalMix(mix(mix(mix(0x9e3779b9, remotePort), local), remote));
}

function hashKey(words: Int32Array, base: number): number {
  const last = words[base + 8] as number;
  if ((last & IPV6_FLAG) === 0) {
    return hashIpv4(words[base] as number, words[base + 4] as number, last);
  }
  let hash = mix(0x9e3779b9, last);
  for (let i = base; i < base + 8; i++) hash = mix(hash, words[i] as number);
  return finalMix(hash);
}

/** Word 8 first: it holds the port and tells the families apart. */
function sameIpv6Key(keys: Int32Array, base: number, probe: Int32Array): boolean {
  for (let word = 8; word >= 0; word--) if (keys[base + word] !== probe[word]) return false;
  return true;
}

/** A copy of `array` twice as long, the new half zero. */
function doubled<T extends Int32Array | Int8Array>(array: T): T {
  const grown = new (array.constructor as new (length: number) => T)(array.length * 2);
  grown.set(array);
  return grown;
}

export class DestinationTable {
  private keys = new Int32Array(1024 * KEY_WORDS);
  private slots = new Int32Array(2048).fill(-1);
  private readonly probe = new Int32Array(KEY_WORDS);
  /** Blocking sockets per destination id; callers adjust counts directly. */
  counts = new Int32Array(1024);
  /** TIME_WAIT sockets per destination id, reusable or not; adjusted by callers. */
  timeWaits = new Int32Array(1024);
  /** Whether TIME_WAIT reuse applies toward the destination: 1 yes, 0 no, -1 not yet known. */
  reuseApplies = new Int8Array(1024);
  size = 0;

  clear(): void {
    this.slots.fill(-1);
    this.size = 0;
  }

  /** Id of an IPv4 destination, inserting it when new; scalars, as most keys are IPv4. */
  internIpv4(localWord: number, remoteWord: number, remotePort: number): number {
    // Signed, as the keys store them (free for the decoder's words, which already are).
    const local = localWord | 0;
    const remote = remoteWord | 0;
    const mask = this.slots.length - 1;
    const keys = this.keys;
    let slot = hashIpv4(local, remote, remotePort) & mask;
    for (; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot] as number;
      if (id < 0) break;
      const base = id * KEY_WORDS;
      if (keys[base + 8] === remotePort && keys[base] === local && keys[base + 4] === remote) {
        return id;
      }
    }
    const probe = this.probe;
    probe.fill(0);
    probe[0] = local;
    probe[4] = remote;
    probe[8] = remotePort;
    return this.insert(slot);
  }

  /** Id of an IPv6 destination, address words in `words` from `offset` (local 0-3, remote 4-7). */
  internIpv6(words: Int32Array, offset: number, remotePort: number): number {
    const probe = this.probe;
    for (let i = 0; i < 8; i++) probe[i] = words[offset + i] as number;
    probe[8] = remotePort | IPV6_FLAG;
    const mask = this.slots.length - 1;
    const keys = this.keys;
    for (let slot = hashKey(probe, 0) & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot] as number;
      if (id < 0) return this.insert(slot);
      if (sameIpv6Key(keys, id * KEY_WORDS, probe)) return id;
    }
  }

  /** The 9 key words of a destination id (a view: copy before the next intern). */
  key(id: number): Int32Array {
    return this.keys.subarray(id * KEY_WORDS, (id + 1) * KEY_WORDS);
  }

  static isIpv6(key: Int32Array): boolean {
    return ((key[8] as number) & IPV6_FLAG) !== 0;
  }

  static remotePort(key: Int32Array): number {
    return (key[8] as number) & 0xffff;
  }

  private insert(slot: number): number {
    const id = this.size++;
    if (id >= this.counts.length) this.growEntries();
    this.keys.set(this.probe, id * KEY_WORDS);
    this.counts[id] = 0;
    this.timeWaits[id] = 0;
    this.reuseApplies[id] = -1;
    this.slots[slot] = id;
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  private growEntries(): void {
    this.keys = doubled(this.keys);
    this.counts = doubled(this.counts);
    this.timeWaits = doubled(this.timeWaits);
    this.reuseApplies = doubled(this.reuseApplies);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = hashKey(this.keys, id * KEY_WORDS) & mask;
      while ((slots[slot] as number) >= 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}
