/**
 * A small typed flag parser in the style of Prometheus exporters (kingpin): long flags only,
 * `--flag=value` or `--flag value`, booleans as `--x` / `--no-x`. One table of FlagSpecs
 * drives parsing, validation, `--help` and the README's flag table, so they never drift.
 */

export interface ListenAddress {
  /** Host to bind; undefined means every address (`:10120`). IPv6 without brackets. */
  readonly host: string | undefined;
  readonly port: number;
}

interface FlagSpecBase {
  /** The long name without dashes, e.g. `web.listen-address`. */
  readonly name: string;
  readonly help: string;
  /** Single-letter alias without the dash, e.g. `h`. */
  readonly short?: string;
  /** Shown in `--help` and the README instead of `value` (e.g. `DIR`). */
  readonly placeholder?: string;
}

export interface StringFlagSpec extends FlagSpecBase {
  readonly kind: 'string';
  readonly default: string;
  /** Rejects values that fail it; the message says what was expected. */
  readonly validate?: (value: string) => string | undefined;
}

export interface BooleanFlagSpec extends FlagSpecBase {
  readonly kind: 'boolean';
  readonly default: boolean;
}

/** Every number flag has a largest value, and says why in `--help` and in the error. */
interface BoundedFlagSpec {
  readonly max: number;
  /** Why larger values are refused, e.g. `each adds up to 11 series`. */
  readonly maxReason: string;
}

export interface DurationFlagSpec extends FlagSpecBase, BoundedFlagSpec {
  readonly kind: 'duration';
  /** Milliseconds, like max. */
  readonly default: number;
}

export interface PositiveIntegerFlagSpec extends FlagSpecBase, BoundedFlagSpec {
  readonly kind: 'positiveInteger';
  readonly default: number;
}

/** Node's timers hold at most 2^31-1 ms (~24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The flag's largest value and why, as `at most 24h (reason)`; undefined for other kinds. */
export function flagLimit(spec: FlagSpec): string | undefined {
  if (spec.kind === 'duration') return `at most ${formatDuration(spec.max)} (${spec.maxReason})`;
  if (spec.kind === 'positiveInteger') return `at most ${spec.max} (${spec.maxReason})`;
  return undefined;
}

export interface EnumFlagSpec<Choice extends string = string> extends FlagSpecBase {
  readonly kind: 'enum';
  readonly choices: readonly Choice[];
  readonly default: Choice;
}

export interface ListenAddressFlagSpec extends FlagSpecBase {
  readonly kind: 'listenAddress';
  readonly default: string;
}

export type FlagSpec =
  | StringFlagSpec
  | BooleanFlagSpec
  | DurationFlagSpec
  | PositiveIntegerFlagSpec
  | EnumFlagSpec
  | ListenAddressFlagSpec;

/** Config key → flag. The key names the field of the parsed config. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

export type FlagValue<Spec extends FlagSpec> =
  Spec extends EnumFlagSpec<infer Choice>
    ? Choice
    : Spec extends BooleanFlagSpec
      ? boolean
      : Spec extends DurationFlagSpec | PositiveIntegerFlagSpec
        ? number
        : Spec extends ListenAddressFlagSpec
          ? ListenAddress
          : string;

export type FlagValues<Table extends FlagTable> = {
  -readonly [K in keyof Table]: FlagValue<Table[K]>;
};

/** A bad command line: names the flag (when there is one) and the expected form. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
  constructor(
    message: string,
    /** `--sample.interval`, or undefined for a stray argument. */
    readonly flag: string | undefined,
  ) {
    super(message);
  }
}

export type ParseResult<Table extends FlagTable> =
  | { readonly ok: true; readonly values: FlagValues<Table> }
  | { readonly ok: false; readonly error: FlagError };

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};
const DURATION_UNIT_ORDER = ['h', 'm', 's', 'ms'];

/** Parses `500ms`, `5s`, `1m`, `1m30s`, `1h` (Prometheus style: units descending, each once). */
export function parseDuration(text: string): number | undefined {
  const parts = /^(\d+)(h|ms|m|s)/;
  let rest = text;
  let total = 0;
  let lastUnit = -1;
  if (rest === '') return undefined;
  while (rest !== '') {
    const match = parts.exec(rest);
    if (match === null) return undefined;
    const [whole, digits = '', unit = ''] = match;
    const unitIndex = DURATION_UNIT_ORDER.indexOf(unit);
    if (unitIndex <= lastUnit) return undefined;
    lastUnit = unitIndex;
    total += Number(digits) * (DURATION_UNITS_MS[unit] ?? Number.NaN);
    rest = rest.slice(whole.length);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest text parseDuration reads back as `ms`: 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const unit of DURATION_UNIT_ORDER) {
    const size = DURATION_UNITS_MS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/** `:10120`, `0.0.0.0:10120`, `[::]:10120`, `localhost:0`. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65_535) return undefined;
  if (host.startsWith('[') || host.endsWith(']')) {
    if (!(host.startsWith('[') && host.endsWith(']'))) return undefined;
    host = host.slice(1, -1);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) return undefined;
  } else if (host.includes(':') || (host !== '' && !/^[A-Za-z0-9.-]+$/.test(host))) {
    return undefined;
  }
  return { host: host === '' ? undefined : host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  if (address.host === undefined) return `:${address.port}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** The expected form of a flag's value, for error messages. */
export function expectedForm(spec: FlagSpec): string {
  switch (spec.kind) {
    case 'duration':
      return 'a duration like 500ms, 5s or 1m';
    case 'positiveInteger':
      return 'a positive integer';
    case 'enum':
      return `one of ${spec.choices.join(', ')}`;
    case 'listenAddress':
      return 'an address like :10120, 127.0.0.1:10120 or [::1]:10120';
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a value';
  }
}

/** A parsed value as it would be typed on the command line. */
export function formatFlagValue<Spec extends FlagSpec>(spec: Spec, value: FlagValue<Spec>): string {
  switch (spec.kind) {
    case 'duration':
      return formatDuration(value as number);
    case 'listenAddress':
      return formatListenAddress(value as ListenAddress);
    default:
      return String(value);
  }
}

/** The default as it would be typed on the command line. */
export function formatDefault(spec: FlagSpec): string {
  switch (spec.kind) {
    case 'duration':
      return formatDuration(spec.default);
    case 'positiveInteger':
    case 'boolean':
      return String(spec.default);
    default:
      return spec.default;
  }
}

/** Flag name → value as typed, for logs and status pages. */
export function formatFlagValues<Table extends FlagTable>(
  table: Table,
  values: FlagValues<Table>,
): Record<string, string> {
  const formatted: Record<string, string> = {};
  for (const [key, spec] of Object.entries(table)) {
    formatted[spec.name] = formatFlagValue(spec, values[key] as FlagValue<typeof spec>);
  }
  return formatted;
}

type Converted = { readonly value: unknown } | { readonly problem: string };

function convert(spec: FlagSpec, text: string): Converted {
  switch (spec.kind) {
    case 'duration': {
      const ms = parseDuration(text);
      if (ms === undefined) return { problem: expectedForm(spec) };
      if (ms === 0) return { problem: `${expectedForm(spec)}, greater than zero` };
      if (ms > spec.max) return { problem: `${expectedForm(spec)}, ${flagLimit(spec)}` };
      return { value: ms };
    }
    case 'positiveInteger': {
      const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(number) || number < 1) return { problem: expectedForm(spec) };
      if (number > spec.max) return { problem: `${expectedForm(spec)}, ${flagLimit(spec)}` };
      return { value: number };
    }
    case 'enum':
      return spec.choices.includes(text) ? { value: text } : { problem: expectedForm(spec) };
    case 'listenAddress': {
      const address = parseListenAddress(text);
      return address === undefined ? { problem: expectedForm(spec) } : { value: address };
    }
    case 'boolean':
      if (text === 'true') return { value: true };
      if (text === 'false') return { value: false };
      return { problem: expectedForm(spec) };
    case 'string': {
      const problem = spec.validate?.(text);
      return problem === undefined ? { value: text } : { problem };
    }
  }
}

function defaultValue(spec: FlagSpec): unknown {
  if (spec.kind === 'listenAddress') {
    const address = parseListenAddress(spec.default);
    if (address === undefined) throw new Error(`bad default for --${spec.name}: ${spec.default}`);
    return address;
  }
  return spec.default;
}

/** Longest argument text an error quotes: a pasted file must not fill the terminal. */
export const QUOTED_MAX_CHARS = 64;

/** `text` quoted, cut to QUOTED_MAX_CHARS with its full length said. */
function quoted(text: string): string {
  if (text.length <= QUOTED_MAX_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTED_MAX_CHARS))}... (${text.length} characters)`;
}

function badValue(flag: string, problem: string, got: string | undefined): FlagError {
  return new FlagError(
    `${flag}: expected ${problem}, got ${got === undefined ? 'nothing' : quoted(got)}`,
    flag,
  );
}

function unknownFlag(shown: string): FlagError {
  return new FlagError(
    `unknown flag ${shown.length <= QUOTED_MAX_CHARS ? shown : quoted(shown)}`,
    shown.slice(0, QUOTED_MAX_CHARS),
  );
}

/**
 * Parses argv (without node and script) against the table. Later occurrences of a flag win.
 * Positional arguments are rejected: subcommands are dispatched before this is called.
 */
export function parseFlags<Table extends FlagTable>(
  table: Table,
  argv: readonly string[],
): ParseResult<Table> {
  const byName = new Map<string, [key: string, spec: FlagSpec]>();
  for (const [key, spec] of Object.entries(table)) {
    byName.set(spec.name, [key, spec]);
    if (spec.short !== undefined) byName.set(spec.short, [key, spec]);
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) values[key] = defaultValue(spec);

  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const long = arg.startsWith('--');
    if (!long && !/^-[A-Za-z]$/.test(arg)) {
      const error = arg.startsWith('-')
        ? unknownFlag(arg)
        : new FlagError(`unexpected argument ${quoted(arg)}`, undefined);
      return { ok: false, error };
    }
    const body = arg.slice(long ? 2 : 1);
    const equals = body.indexOf('=');
    const name = equals < 0 ? body : body.slice(0, equals);
    const inline = equals < 0 ? undefined : body.slice(equals + 1);
    if (name === '') {
      const error = new FlagError(`expected a flag name after --, got ${quoted(arg)}`, undefined);
      return { ok: false, error };
    }

    let entry = byName.get(name);
    let negated = false;
    if (entry === undefined && long && name.startsWith('no-')) {
      const positive = byName.get(name.slice(3));
      if (positive?.[1].kind === 'boolean') {
        entry = positive;
        negated = true;
      }
    }
    const shownFlag = `${long ? '--' : '-'}${name}`;
    if (entry === undefined) return { ok: false, error: unknownFlag(shownFlag) };
    const [key, spec] = entry;

    if (spec.kind === 'boolean') {
      if (inline === undefined) {
        values[key] = !negated;
        continue;
      }
      const converted = negated ? undefined : convert(spec, inline);
      if (converted === undefined || 'problem' in converted) {
        const problem = negated ? 'no value' : expectedForm(spec);
        return { ok: false, error: badValue(shownFlag, problem, inline) };
      }
      values[key] = converted.value;
      continue;
    }

    let text = inline;
    if (text === undefined) {
      const next = argv[index + 1];
      // `--flag --other` means the value is missing, not that it is "--other".
      if (next !== undefined && !next.startsWith('--')) {
        text = next;
        index++;
      }
    }
    if (text === undefined) {
      return { ok: false, error: badValue(shownFlag, expectedForm(spec), undefined) };
    }
    const converted = convert(spec, text);
    if ('problem' in converted) {
      return { ok: false, error: badValue(shownFlag, converted.problem, text) };
    }
    values[key] = converted.value;
  }
  return { ok: true, values: values as FlagValues<Table> };
}
