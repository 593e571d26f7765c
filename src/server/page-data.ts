/**
 * The live page's JSON (`/api/page`): the recent history and the latest sample's tables, in
 * the shape the page's script draws. It is the page's own endpoint, not a stable API:
 * Prometheus scrapes /metrics.
 */
import { COLLECTOR_NAMES, type CollectorName, REGISTRY } from '../collectors/registry.js';
import type { Destination, EphemeralPorts, PortStateCounts, Snapshot } from '../snapshot/model.js';
import type { HistorySeries } from './sample-history.js';

export const PAGE_DATA_PATH = '/api/page';

export interface CollectorView {
  readonly name: string;
  /** disabled, waiting (no sample yet), ok or failing. */
  readonly state: 'disabled' | 'waiting' | 'ok' | 'failing';
  readonly durationSeconds?: number;
  readonly error?: string;
  /** The status as the page shows it: `ok (1.2 ms)`, `failing: <error>`... */
  readonly text: string;
}

/** The status column, here and (through the page's JSON) in src/page/page.js. */
export function collectorStateText(view: Omit<CollectorView, 'text'>): string {
  switch (view.state) {
    case 'disabled':
      return 'disabled';
    case 'waiting':
      return 'waiting for the first sample';
    case 'ok':
      return `ok (${((view.durationSeconds ?? 0) * 1000).toFixed(1)} ms)`;
    case 'failing':
      return `failing: ${view.error ?? 'unknown error'}`;
  }
}

export interface DestinationView {
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly used: number;
  /** 1 - used / usable. */
  readonly headroomRatio: number;
  /** TIME_WAIT toward it, reusable or not. */
  readonly timeWait: number;
  /** How long a client-closed connection blocks its port. */
  readonly holdSeconds: number;
  /** usable / holdSeconds: new connections per second it sustains when the client closes first. */
  readonly sustainedConnectsPerSecond: number;
}

export interface PageData {
  readonly version: string;
  readonly telemetryPath: string;
  readonly intervalSeconds: number;
  readonly historyCapacity: number;
  readonly flags: Readonly<Record<string, string>>;
  /** The latest sample's start (ISO 8601) and duration; null before the first. */
  readonly sample: { readonly at: string; readonly durationSeconds: number } | null;
  readonly collectors: readonly CollectorView[];
  readonly history: HistorySeries;
  readonly ephemeral:
    | (Omit<EphemeralPorts, 'destinations'> & { readonly destinations: readonly DestinationView[] })
    | null;
  readonly listenPorts: readonly PortStateCounts[];
  readonly remotePorts: readonly PortStateCounts[];
}

export interface PageInputs {
  readonly version: string;
  readonly telemetryPath: string;
  readonly intervalSeconds: number;
  readonly historyCapacity: number;
  readonly flags: Readonly<Record<string, string>>;
  readonly collectors: Readonly<Record<CollectorName, boolean>>;
  readonly snapshot: Snapshot | undefined;
  readonly history: HistorySeries;
}

export function collectorViews(
  enabled: Readonly<Record<CollectorName, boolean>>,
  snapshot: Snapshot | undefined,
): CollectorView[] {
  const statuses = snapshot === undefined ? [] : REGISTRY.statuses(snapshot, enabled);
  const byName = new Map(statuses.map((status) => [status.name, status]));
  return COLLECTOR_NAMES.map((name) => {
    const status = byName.get(name);
    let view: Omit<CollectorView, 'text'>;
    if (!enabled[name]) view = { name, state: 'disabled' };
    else if (status === undefined) view = { name, state: 'waiting' };
    else if (status.success) view = { name, state: 'ok', durationSeconds: status.durationSeconds };
    else {
      view = {
        name,
        state: 'failing',
        durationSeconds: status.durationSeconds,
        error: status.error ?? 'unknown error',
      };
    }
    return { ...view, text: collectorStateText(view) };
  });
}

function destinationView(destination: Destination, usable: number): DestinationView {
  const { localAddress, remoteAddress, remotePort, used, holdSeconds, timeWait } = destination;
  return {
    localAddress,
    remoteAddress,
    remotePort,
    used,
    headroomRatio: usable > 0 ? Math.max(0, 1 - used / usable) : 0,
    timeWait,
    holdSeconds,
    sustainedConnectsPerSecond: usable / holdSeconds,
  };
}

export function pageData(inputs: PageInputs): PageData {
  const { snapshot } = inputs;
  const tables = snapshot?.sockets;
  const ephemeral = tables?.ephemeral;
  return {
    version: inputs.version,
    telemetryPath: inputs.telemetryPath,
    intervalSeconds: inputs.intervalSeconds,
    historyCapacity: inputs.historyCapacity,
    flags: inputs.flags,
    sample:
      snapshot === undefined
        ? null
        : {
            at: new Date(snapshot.timestampMs).toISOString(),
            durationSeconds: snapshot.durationSeconds,
          },
    collectors: collectorViews(inputs.collectors, snapshot),
    history: inputs.history,
    ephemeral:
      ephemeral === undefined
        ? null
        : {
            ...ephemeral,
            destinations: ephemeral.destinations.map((destination) =>
              destinationView(destination, ephemeral.usable),
            ),
          },
    listenPorts: tables?.listenPorts ?? [],
    remotePorts: tables?.remotePorts ?? [],
  };
}
