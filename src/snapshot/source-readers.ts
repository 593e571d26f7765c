/**
 * The engine's sources: one reader per part of a snapshot. The snapshot's parts, their
 * names, their types and each source's declaration (read with every node sample) are derived
 * from this table, so a new source is one line here (see docs/architecture.md).
 */
import { join } from 'node:path';
import { readConntrackStats } from '../sources/conntrack-stats.js';
import { SourceError } from '../sources/kernel-files.js';
import { readNetstat } from '../sources/netstat.js';
import { type ScheduledSource, scheduledSource } from '../sources/scheduled-source.js';
import { readSockstat } from '../sources/sockstat.js';
import type { EphemeralSettings, Sysctls } from '../sources/sysctl.js';
import type { TcpTableReader } from '../sources/tcp-table.js';
import { readUdpListeners } from '../sources/udp-table.js';
import { readSnatPorts, type SnatLimits } from './snat-accumulator.js';
import type { AggregateLimits, SocketAccumulator } from './socket-accumulator.js';
import type { SocketTables } from './socket-tables.js';

/** The limits come from the collectors' own flags (ports, ephemeral, snat). */
export interface SampleOptions extends AggregateLimits, SnatLimits {
  /** Root of the procfs tree: `/proc` or a captured fixture directory. */
  readonly procfsRoot: string;
  /** Which sources to read (the plan the enabled collectors make); a disabled one is not reported. */
  readonly sources: Readonly<Record<SourceName, boolean>>;
  /** Largest byte count asked of one read(); tests shrink it to prove the line carry-over. */
  readonly readChunkBytes?: number;
}

/** What a reader gets: the options, the sampler's buffers, and what one sample shares. */
export interface SourceContext {
  readonly options: SampleOptions;
  readonly tables: TcpTableReader;
  readonly accumulator: SocketAccumulator;
  /** Port range and reuse sysctls, read once per sample by whichever source asks first. */
  ephemeralSettings(): EphemeralSettings;
  /** Every sysctl: from the root's sys/, or those handed over for a /proc/<pid> root. */
  sysctls(): Sysctls;
  /** The message for an error thrown by a source. */
  describe(error: unknown): string;
}

function readSocketTables(context: SourceContext): SocketTables {
  const { options, tables, accumulator } = context;
  let settings: EphemeralSettings | undefined;
  let ephemeralError: string | undefined;
  try {
    settings = context.ephemeralSettings();
  } catch (error) {
    ephemeralError = context.describe(error);
  }
  accumulator.begin(settings);
  const tcpPath = join(options.procfsRoot, 'net/tcp');
  const tcp = tables.read(tcpPath, 'ipv4', accumulator, options.readChunkBytes);
  if (!tcp.present) throw new SourceError(`cannot read ${tcpPath}: ENOENT (no such file)`);
  const tcp6Path = join(options.procfsRoot, 'net/tcp6');
  const tcp6 = tables.read(tcp6Path, 'ipv6', accumulator, options.readChunkBytes);
  const aggregates = accumulator.finish(options);
  return {
    tcp,
    tcp6,
    bytesRead: tcp.bytes + tcp6.bytes,
    linesRead: tcp.lines + tcp6.lines,
    ...aggregates,
    ...(ephemeralError !== undefined && { ephemeralError }),
  };
}

const READERS = {
  sockets: readSocketTables,
  sockstat: ({ options }: SourceContext) => readSockstat(options.procfsRoot),
  netstat: ({ options }: SourceContext) => readNetstat(options.procfsRoot),
  sysctl: (context: SourceContext) => context.sysctls(),
  conntrack: ({ options }: SourceContext) => readConntrackStats(options.procfsRoot),
  snat: (context: SourceContext) => readSnatPorts(context),
  // doctor's widen-the-range advice only; no collector reads it.
  udp: ({ options }: SourceContext) => readUdpListeners(options.procfsRoot),
};

export type SourceName = keyof typeof READERS;

/** What each source gives, by name: the snapshot's parts. */
type PartTypes = { [Name in SourceName]: ReturnType<(typeof READERS)[Name]> };

export type SnapshotParts = { readonly [Name in SourceName]?: PartTypes[Name] };

/** The readers, typed per name so reading one part needs no cast. */
export const SOURCE_READERS: {
  readonly [Name in SourceName]: (context: SourceContext) => PartTypes[Name];
} = READERS;

/** Every source, in the order a sample reads them. */
export const SOURCE_NAMES = Object.keys(READERS) as readonly SourceName[];

/** An engine source as a collector names it: read with every node sample, `--once`'s too. */
export type EngineSource<Name extends SourceName = SourceName> = ScheduledSource<
  PartTypes[Name],
  Name
>;

/** Each reader's declaration, by name: the sample plan is made of those the enabled collectors name. */
export const ENGINE_SOURCES = Object.fromEntries(
  SOURCE_NAMES.map((name) => [name, scheduledSource(name, { kind: 'sample' }, true)]),
) as { readonly [Name in SourceName]: EngineSource<Name> };

/** Whether a sample reads `source` (one of the engine's), rather than a starter. */
export function isEngineSource(source: ScheduledSource<unknown>): source is EngineSource {
  return ENGINE_SOURCES[source.name as SourceName] === source;
}

/** Reads one source into `parts` (throws what the source throws). */
export function readPart<Name extends SourceName>(
  parts: { -readonly [N in SourceName]?: PartTypes[N] },
  name: Name,
  context: SourceContext,
): void {
  parts[name] = SOURCE_READERS[name](context);
}
