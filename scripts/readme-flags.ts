/** The README's flag table, generated from the flag table between two markers. */

import type { FlagTable } from '../src/cli/flag-parser.js';
import { formatFlagTableMarkdown } from '../src/cli/help.js';
import { EXPORTER_FLAGS } from '../src/config/flags.js';

export const FLAGS_START = '<!-- flags:start -->';
export const FLAGS_END = '<!-- flags:end -->';

/** The README with the block between the markers replaced by the flag table. */
export function withFlagTable(readme: string, flags: FlagTable = EXPORTER_FLAGS): string {
  const start = readme.indexOf(FLAGS_START);
  const end = readme.indexOf(FLAGS_END);
  if (start < 0 || end < start) {
    throw new Error(`the README needs ${FLAGS_START} and ${FLAGS_END}, in that order`);
  }
  const table = formatFlagTableMarkdown(flags);
  return `${readme.slice(0, start)}${FLAGS_START}\n${table}${readme.slice(end)}`;
}
