/**
 * What a namespace not walked this round is exported with: its last walk's ephemeral figures
 * bounded by the O(1) counters read this round, so that it never shows more headroom than
 * the truth. The reasoning, with the kernel functions it rests on, is in docs/namespaces.md
 * ("When a namespace's tables are walked").
 */
import type { NetstatCounters } from '../sources/netstat.js';
import type { Sockstat } from '../sources/sockstat.js';
import { type EphemeralPorts, headroomRatio } from './socket-tables.js';

/** A namespace's O(1) counts, read each round (sockstat first, then net/snmp). */
export interface NamespaceLoad {
  /** inuse of TCP and TCP6 plus tw: no destination (and no set of ports) holds more. */
  readonly sockets: number;
  /** inuse of TCP and TCP6: listeners and the other full sockets in the hash. */
  readonly inuse: number;
  /** Tcp ActiveOpens + PassiveOpens: sockets that got a port by connect() or accept(). */
  readonly opens?: number;
  /** Tcp CurrEstab: ESTABLISHED and CLOSE_WAIT sockets. */
  readonly established?: number;
}

export function namespaceLoad(sockstat: Sockstat, netstat: NetstatCounters): NamespaceLoad {
  const inuse = (sockstat.ipv4.inuse ?? 0) + (sockstat.ipv6?.inuse ?? 0);
  const { ActiveOpens: active, PassiveOpens: passive, CurrEstab: established } = netstat.tcp;
  return {
    sockets: inuse + (sockstat.ipv4.tw ?? 0),
    inuse,
    ...(active === undefined || passive === undefined ? {} : { opens: active + passive }),
    ...(established === undefined ? {} : { established }),
  };
}

/** Sockets opened since the walk, or undefined when a count is missing or went backwards. */
function openedSince(walkOpens: number | undefined, opens: number | undefined): number | undefined {
  if (walkOpens === undefined || opens === undefined || opens < walkOpens) return undefined;
  return opens - walkOpens;
}

/**
 * The walk's figures with usable lowered and used_max, held raised to what this round's
 * counts allow; each of two sound bounds may be the tighter, the tighter is exported:
 * - sockets: new listeners and blocking sockets are distinct sockets, together at most
 *   inuse + tw, so (usable of the walk, min(inuse + tw, usable)) under-states the headroom;
 * - opens: a socket holding a port now existed at the walk (counted there) or got its port
 *   by connect() or accept() since (ActiveOpens, PassiveOpens), so used_max and held grew by
 *   at most the opens since; listeners now are at most inuse - CurrEstab, plus the opens
 *   since (a socket hashed after sockstat was read and established before net/snmp was).
 * Its destinations stay the walk's.
 */
export function boundedEphemeral(
  walked: EphemeralPorts,
  walkOpens: number | undefined,
  load: NamespaceLoad,
): EphemeralPorts {
  const capped = Math.min(load.sockets, walked.usable);
  let bound = { usable: walked.usable, usedMax: capped, held: capped };
  const opened = openedSince(walkOpens, load.opens);
  if (opened !== undefined && load.established !== undefined) {
    const listeners = Math.max(0, load.inuse - load.established) + opened;
    const usable = Math.max(0, walked.usable - listeners);
    const usedMax = Math.min(walked.usedMax + opened, load.sockets, usable);
    const held = Math.min(walked.held + opened, load.sockets, usable);
    if (headroomRatio(usable, usedMax) > headroomRatio(bound.usable, bound.usedMax)) {
      bound = { usable, usedMax, held };
    }
  }
  return { ...walked, ...bound, headroomRatio: headroomRatio(bound.usable, bound.usedMax) };
}
