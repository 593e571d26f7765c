/**
 * listener-in-ephemeral-range: listening ports inside ip_local_port_range that
 * ip_local_reserved_ports does not cover, so connect() may hand them to a client.
 */
import { formatPortList, reservePortsFix } from '../advice.js';
import { type Check, needSockets, unavailable } from '../check-context.js';
import { unreservedListeners } from '../ephemeral.js';
import { PORT_RANGE, RESERVED_PORTS } from '../sysctl-names.js';

interface Observed {
  readonly range: { readonly low: number; readonly high: number };
  readonly reserved: readonly (readonly [number, number])[];
  /** The listening ports in the range, not reserved. */
  readonly exposed: readonly number[];
}

export const listenerInEphemeralRange: Check<Observed> = {
  id: 'listener-in-ephemeral-range',

  observe: (context) => {
    const sockets = needSockets(context);
    const range = context.second.sysctl?.portRange;
    if (range === undefined) throw unavailable(context.second, 'sysctl', PORT_RANGE);
    const reserved = context.second.sysctl?.reservedPorts ?? [];
    const exposed = unreservedListeners(sockets, reserved, range.low, range.high);
    return exposed.length === 0 ? [] : [{ range, reserved, exposed }];
  },

  severity: () => 'warning',

  summary: ({ range, exposed }) =>
    `listening port${exposed.length > 1 ? 's' : ''} ${exposed.join(', ')} inside ${PORT_RANGE} ${range.low}-${range.high}, not reserved`,

  evidence: ({ range, reserved, exposed }) => ({
    ports: exposed,
    [PORT_RANGE]: `${range.low} ${range.high}`,
    [RESERVED_PORTS]: formatPortList(reserved),
  }),

  explanation: () =>
    'connect() may hand these port numbers to outgoing connections. While the service is down or restarting, a client can take its port, and the service then fails to bind (EADDRINUSE) until that connection is gone. Listening ports inside the range also leave fewer ports for clients. A port a program got by binding to port 0 belongs there and needs nothing.',

  fix: ({ range, reserved, exposed }) => [
    reservePortsFix(
      'Reserve the ports (the line keeps the ports already reserved)',
      reserved,
      exposed,
    ),
    { step: `Or move the service to a port below ${range.low}` },
  ],
};
