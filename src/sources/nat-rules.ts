/**
 * The source NAT rules of the exporter's network namespace and their port ranges, from
 * `nft -j list ruleset` (native rules) and `iptables-save -t nat` (iptables rules, whose
 * nft form hides the range in an xt target), legacy iptables too. See docs/conntrack.md.
 */
import { execFileSync } from 'node:child_process';
import { SourceError } from './kernel-files.js';

export interface NatPortRange {
  readonly low: number;
  readonly high: number;
}

export interface NatRules {
  /** masquerade and snat rules found, with a port range or without. */
  readonly rules: number;
  /** The port ranges those rules give (`to :40000-40009`, `--to-ports`, `--to-source a:p-q`). */
  readonly ranges: readonly NatPortRange[];
}

/**
 * Ports a source NAT without a range picks from, for an original source port of 1024 or
 * more: 1024-65535 (nf_nat_l4proto_unique_tuple; below 512 it is 1-511, below 1024 600-1023).
 */
export const KERNEL_DEFAULT_NAT_PORTS = 65535 - 1024 + 1;

const COMMAND_TIMEOUT_MS = 5_000;

function range(low: number, high: number): NatPortRange | undefined {
  if (!Number.isInteger(low) || !Number.isInteger(high)) return undefined;
  if (low < 1 || high > 65535 || high < low) return undefined;
  return { low, high };
}

/** The range of an nft JSON `port` value: a number, `{ "range": [low, high] }`, or none. */
function nftPortRange(port: unknown): NatPortRange | undefined {
  if (typeof port === 'number') return range(port, port);
  const bounds = (port as { range?: unknown } | null | undefined)?.range;
  if (Array.isArray(bounds) && bounds.length === 2) return range(bounds[0], bounds[1]);
  return undefined;
}

export function parseNftRuleset(json: string): NatRules {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (error) {
    throw new SourceError(`nft -j list ruleset: not JSON (${(error as Error).message})`);
  }
  const items = (document as { nftables?: unknown } | null)?.nftables;
  if (!Array.isArray(items)) throw new SourceError('nft -j list ruleset: no "nftables" array');
  let rules = 0;
  const ranges: NatPortRange[] = [];
  for (const item of items) {
    const expressions = (item as { rule?: { expr?: unknown } }).rule?.expr;
    if (!Array.isArray(expressions)) continue;
    for (const expression of expressions) {
      for (const kind of ['masquerade', 'snat'] as const) {
        if (!(kind in (expression as object))) continue;
        rules++;
        const found = nftPortRange((expression as Record<string, { port?: unknown }>)[kind]?.port);
        if (found !== undefined) ranges.push(found);
      }
    }
  }
  return { rules, ranges };
}

/** `40000`, `40000-40009` (`--to-ports`) or the `:p-q` of `--to-source a.b.c.d:p-q`. */
function textPortRange(text: string): NatPortRange | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (match === null) return undefined;
  const low = Number(match[1]);
  return range(low, match[2] === undefined ? low : Number(match[2]));
}

export function parseIptablesSave(text: string): NatRules {
  let rules = 0;
  const ranges: NatPortRange[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const words = line.split(/\s+/);
    const target = words[words.indexOf('-j') + 1];
    if (target !== 'MASQUERADE' && target !== 'SNAT') continue;
    rules++;
    const option = words.indexOf(target === 'MASQUERADE' ? '--to-ports' : '--to-source');
    const value = option === -1 ? undefined : words[option + 1];
    if (value === undefined) continue;
    // --to-source: address[-address][:port[-port]]; IPv6 addresses come in brackets.
    const ports = target === 'MASQUERADE' ? value : /:(\d+(?:-\d+)?)$/.exec(value)?.[1];
    const found = ports === undefined ? undefined : textPortRange(ports);
    if (found !== undefined) ranges.push(found);
  }
  return { rules, ranges };
}

/** A command's stdout; undefined when it is not installed. Other failures throw. */
function runOptional(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      timeout: COMMAND_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new SourceError(
      `cannot read the NAT ruleset: ${command} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`,
    );
  }
}

/** The rules of the exporter's namespace; throws a SourceError when no tool can list them. */
export function readNatRules(): NatRules {
  const found: NatRules[] = [];
  const nft = runOptional('nft', ['-j', 'list', 'ruleset']);
  if (nft !== undefined) found.push(parseNftRuleset(nft));
  for (const command of ['iptables-save', 'iptables-legacy-save', 'ip6tables-save']) {
    const text = runOptional(command, ['-t', 'nat']);
    if (text !== undefined) found.push(parseIptablesSave(text));
  }
  if (found.length === 0) {
    throw new SourceError(
      'cannot read the NAT ruleset: neither nft nor iptables-save is installed',
    );
  }
  return {
    rules: found.reduce((total, rules) => total + rules.rules, 0),
    ranges: found.flatMap((rules) => rules.ranges),
  };
}
