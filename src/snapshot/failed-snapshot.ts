import type { SampleOptions, Snapshot, SourceName, SourceStatus } from './model.js';

/** A snapshot in which every enabled source failed for one reason (the sampler itself broke). */
export function failedSnapshot(
  options: SampleOptions,
  timestampMs: number,
  durationSeconds: number,
  error: string,
): Snapshot {
  const sources: Partial<Record<SourceName, SourceStatus>> = {};
  for (const [name, enabled] of Object.entries(options.sources) as [SourceName, boolean][]) {
    if (enabled) sources[name] = { success: false, durationSeconds, error };
  }
  return { procfsRoot: options.procfsRoot, timestampMs, durationSeconds, sources };
}

/**
 * Whether a sample succeeded: the socket tables were read, when a collector that needs them
 * is enabled (they are what the exporter is for); otherwise some enabled source was read, or
 * none is enabled. A failing sysctl, sockstat or netstat source alone does not fail it.
 */
export function isSuccessfulSample(snapshot: Snapshot): boolean {
  const tables = snapshot.sources.sockets;
  if (tables !== undefined) return tables.success;
  const statuses = Object.values(snapshot.sources);
  return statuses.length === 0 || statuses.some((status) => status?.success === true);
}
