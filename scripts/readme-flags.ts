/** The README's flag table, generated from the flag table between two markers. */
import { EXPORTER_FLAGS } from '../src/config/flags.js';
import { formatFlagTableMarkdown } from '../src/flags/help.js';

export const FLAGS_START = '<!-- flags:start -->';
export const FLAGS_END = '<!-- flags:end -->';

/** The README with the block between the markers replaced by the current flag table. */
export function withFlagTable(readme: string): string {
  const start = readme.indexOf(FLAGS_START);
  const end = readme.indexOf(FLAGS_END);
  if (start < 0 || end < start) {
    throw new Error(`the README needs ${FLAGS_START} and ${FLAGS_END}, in that order`);
  }
  const table = formatFlagTableMarkdown(EXPORTER_FLAGS);
  return `${readme.slice(0, start)}${FLAGS_START}\n${table}${readme.slice(end)}`;
}
