import type { SampleOptions, Snapshot, SourceName, SourceStatus } from '../snapshot/model.js';

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

/** A sample counts as successful when some enabled source succeeded (or none is enabled). */
export function isSuccessfulSample(snapshot: Snapshot): boolean {
  const statuses = Object.values(snapshot.sources);
  return statuses.length === 0 || statuses.some((status) => status?.success === true);
}
