/** `--help` text and the README's markdown flag table, both from one FlagTable. */
import { type FlagSpec, type FlagTable, flagLimit, formatDefault } from './flag-parser.js';

function placeholder(spec: FlagSpec): string {
  if (spec.placeholder !== undefined) return spec.placeholder;
  switch (spec.kind) {
    case 'duration':
      return 'DURATION';
    case 'positiveInteger':
      return 'N';
    case 'enum':
      return spec.choices.join('|');
    case 'listenAddress':
      return 'ADDRESS';
    default:
      return 'VALUE';
  }
}

/** How the flag is written: `--[no-]collector.sockets`, `--sample.interval=DURATION`. */
export function flagSynopsis(spec: FlagSpec): string {
  const short = spec.short === undefined ? '' : `-${spec.short}, `;
  if (spec.kind === 'boolean') {
    // A flag that defaults to on is mostly used in its negative form: show both.
    const name = spec.default ? `--[no-]${spec.name}` : `--${spec.name}`;
    return `${short}${name}`;
  }
  return `${short}--${spec.name}=${placeholder(spec)}`;
}

function defaultShown(spec: FlagSpec): string | undefined {
  if (spec.kind === 'boolean' && !spec.default) return undefined;
  return formatDefault(spec);
}

export interface HelpText {
  /** Lines after `usage:`, e.g. `tcpstate-exporter [<flags>]`. */
  readonly usage: readonly string[];
  readonly summary: string;
  /** Paragraphs printed after the flags. */
  readonly footer?: readonly string[];
}

/** The flag's help with its largest value, if it has one. */
function helpWithLimit(spec: FlagSpec): string {
  const limit = flagLimit(spec);
  return limit === undefined
    ? spec.help
    : `${spec.help} At most ${limit.slice('at most '.length)}.`;
}

export function formatHelp(table: FlagTable, text: HelpText): string {
  const specs = Object.values(table);
  const synopses = specs.map(flagSynopsis);
  const width = Math.max(...synopses.map((synopsis) => synopsis.length)) + 2;
  const lines = text.usage.map((line, index) => `${index === 0 ? 'usage: ' : '       '}${line}`);
  lines.push('', text.summary, '', 'Flags:');
  specs.forEach((spec, index) => {
    const synopsis = synopses[index] ?? '';
    const shown = defaultShown(spec);
    const help =
      shown === undefined ? helpWithLimit(spec) : `${helpWithLimit(spec)} (default: ${shown})`;
    lines.push(`  ${synopsis.padEnd(width)}${help}`);
  });
  for (const paragraph of text.footer ?? []) lines.push('', paragraph);
  return `${lines.join('\n')}\n`;
}

function markdownCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** A markdown table: flag, default, meaning. */
export function formatFlagTableMarkdown(table: FlagTable): string {
  const rows = ['| flag | default | meaning |', '|---|---|---|'];
  for (const spec of Object.values(table)) {
    const shown = defaultShown(spec);
    const cells = [
      `\`${flagSynopsis(spec)}\``,
      shown === undefined ? '' : `\`${shown}\``,
      // Outside code spans GitHub would take `<pid>` for an HTML tag.
      helpWithLimit(spec).replaceAll('<', '&lt;').replaceAll('>', '&gt;'),
    ];
    rows.push(`| ${cells.map(markdownCell).join(' | ')} |`);
  }
  return `${rows.join('\n')}\n`;
}
