/**
 * How each source that the engine does not read runs, one line each: the collector that shows
 * a source names it in its `sources`, and the loop in source-runner.ts starts those of the
 * enabled collectors (docs/architecture.md, "Adding a scheduled source").
 */
import { connectErrorsStarter } from './connect-errors-stream.js';
import { netnsRoundsStarter } from './netns-rounds.js';
import { sockstatFastStarter } from './sockstat-peaks.js';
import type { SourceStarter } from './source-runner.js';

export const SCHEDULED_SOURCES: readonly SourceStarter<unknown>[] = [
  netnsRoundsStarter,
  sockstatFastStarter,
  connectErrorsStarter,
];
