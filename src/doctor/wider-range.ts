/**
 * Widening ip_local_port_range hands more port numbers to connect() and to UDP sockets that
 * send without binding, so the advice first reserves what the new ports would collide with:
 * TCP and UDP listeners, and on a Kubernetes node the kubelet's and kube-proxy's ports and
 * the NodePort range, which kube-proxy serves by DNAT without a listener /proc could show.
 */
import type { SocketTables } from '../snapshot/model.js';
import type { UdpListeners } from '../sources/udp-table.js';
import { formatPortList, mergePorts, sysctlFix } from './advice.js';
import { unreservedListeners } from './ephemeral.js';
import type { FixStep } from './finding.js';
import { PORT_RANGE, RESERVED_PORTS } from './sysctl-names.js';

type PortRanges = readonly (readonly [number, number])[];

/** A range wide enough to matter, still clear of the well-known and registered low ports. */
export const WIDE_PORT_RANGE = { low: 10000, high: 65535 } as const;

/** kubelet 10248 (healthz), 10250 (API), 10255 (read-only); kube-proxy 10249, 10256. */
export const KUBERNETES_COMPONENT_PORTS = [10248, 10256] as const;
/** The API server's default --service-node-port-range. */
export const NODE_PORT_RANGE = [30000, 32767] as const;
/** Listeners that show a Kubernetes node: the kubelet's API, kube-proxy's metrics and healthz. */
const KUBERNETES_LISTENERS = [10249, 10250, 10256];

export interface WiderRangeInput {
  readonly sockets: SocketTables;
  readonly rangeLow: number;
  readonly rangeHigh: number;
  readonly reserved: PortRanges;
  /** Undefined when net/udp was not read. */
  readonly udp: UdpListeners | undefined;
}

const inside = (port: number, ranges: PortRanges) =>
  ranges.some(([from, to]) => port >= from && port <= to);

/** Whether the range would grow at all; the steps below are empty when it would not. */
export function wouldWiden({ rangeLow, rangeHigh }: WiderRangeInput): boolean {
  return rangeLow > WIDE_PORT_RANGE.low || rangeHigh < WIDE_PORT_RANGE.high;
}

/** What the reserve step adds, by kind, for the evidence-like wording and the tests. */
export function portsToReserve(input: WiderRangeInput): {
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
  readonly kubernetes: boolean;
  readonly low: number;
} {
  const { sockets, rangeLow, rangeHigh, reserved, udp } = input;
  const low = Math.min(rangeLow, WIDE_PORT_RANGE.low);
  const tcp = unreservedListeners(sockets, reserved, low, WIDE_PORT_RANGE.high);
  // UDP ports inside today's range were mostly handed out by it (clients that sent without
  // binding, which /proc cannot tell from servers): only the ports widening adds are servers'.
  const added = (port: number) => port >= low && !(port >= rangeLow && port <= rangeHigh);
  const udpPorts = (udp?.ports ?? []).filter((port) => added(port) && !inside(port, reserved));
  const kubernetes = sockets.listeningPorts.some((port) => KUBERNETES_LISTENERS.includes(port));
  return { tcp, udp: udpPorts, kubernetes, low };
}

/** Reserve, then widen, then what the reservation cannot cover. */
export function widerRangeSteps(input: WiderRangeInput): FixStep[] {
  if (!wouldWiden(input)) return [];
  const { tcp, udp, kubernetes, low } = portsToReserve(input);
  const steps: FixStep[] = [];
  const kinds = [
    ...(tcp.length > 0 ? [`TCP listeners ${tcp.join(', ')}`] : []),
    ...(udp.length > 0 ? [`UDP listeners ${udp.join(', ')}`] : []),
    ...(kubernetes
      ? [
          `the kubelet's and kube-proxy's ports ${KUBERNETES_COMPONENT_PORTS.join('-')} and the NodePort range ${NODE_PORT_RANGE.join('-')} (this is a Kubernetes node)`,
        ]
      : []),
  ];
  if (kinds.length > 0) {
    const ranges: PortRanges = kubernetes
      ? [...input.reserved, KUBERNETES_COMPONENT_PORTS, NODE_PORT_RANGE]
      : input.reserved;
    steps.push(
      sysctlFix(
        `First reserve what the wider range would hand to clients (the line keeps the ports already reserved): ${kinds.join('; ')}`,
        RESERVED_PORTS,
        formatPortList(mergePorts(ranges, [...tcp, ...udp])),
      ),
    );
  }
  steps.push(
    sysctlFix(
      'Widen the ephemeral port range (applies to the next connect())',
      PORT_RANGE,
      `${low} ${WIDE_PORT_RANGE.high}`,
    ),
  );
  const unseen = [
    'services not listening at this moment (stopped, restarting, started later)',
    'ports published by DNAT without a listener here (container hostPorts, NodePorts)',
    ...(input.udp === undefined ? ['UDP listeners (net/udp was not read)'] : []),
  ];
  steps.push({
    step: `Reserve by hand what /proc cannot show: ${unseen.join('; ')}.${kubernetes ? '' : ` On a Kubernetes node, reserve the NodePort range (${NODE_PORT_RANGE.join('-')} unless --service-node-port-range says otherwise) and the kubelet's and kube-proxy's ports ${KUBERNETES_COMPONENT_PORTS.join('-')}.`}`,
  });
  return steps;
}
