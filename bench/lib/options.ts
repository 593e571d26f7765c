/** Command line of `npm run bench`: which parts, which sizes, how the results are printed. */

export const PARTS = [
  'synthetic',
  'real',
  'memory',
  'profile',
  'daemon',
  'cold-start',
  'netns',
  'top-k',
  'netns-idle',
  'footprint',
  'soak',
  'sample-intake',
  'basic-auth',
  'tracer',
  'sockstat-fast',
  'nsenter',
  'conntrack',
] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** One JSON object per measurement on stdout instead of tables. */
  readonly json: boolean;
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly parts: ReadonlySet<Part>;
  /** Write docs/benchmarks.{md,png,jsonl} and the generated sections of other pages. */
  readonly docs: boolean;
  /** Repeat counts are multiplied by this (0.5 for --quick). */
  readonly effort: number;
  /** Measure nothing: report the records of an earlier run's JSON lines file. */
  readonly report?: string;
  /** A git revision whose build the cold-start part also measures, for a before/after. */
  readonly baseline?: string;
}

export const DEFAULT_SIZES = [10_000, 100_000, 1_000_000] as const;
const QUICK_SIZES = [10_000] as const;

export const USAGE = `Usage: npm run bench -- [options]

  --json             one JSON object per measurement on stdout (progress on stderr)
  --quick            10k sockets only, fewer runs, no docs (about a minute)
  --sizes LIST       table sizes, e.g. 10k,100k,1m (default 10k,100k,1m)
  --only LIST        parts to run: ${PARTS.join(',')} (default all)
  --docs / --no-docs write docs/benchmarks.{md,png,jsonl} and the generated sections of
                     other docs/ pages from a run of every part, never a --quick one
                     (default: on for a full default run)
  --report FILE      measure nothing; report an earlier run's records (bench/out/*.jsonl,
                     docs/benchmarks.jsonl)
  --baseline REV     cold-start, netns-idle, footprint and conntrack parts: also run this git revision
                     (before/after in one run)
  --help             this text

Needs root for the real-kernel part (network namespaces), hyperfine, iproute2, perl,
prometheus-node-exporter; a part whose needs are missing is skipped and says why.`;

/** `10k` → 10000, `1m` → 1000000, `2500` → 2500. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (match === null) throw new Error(`bad size "${text}": use e.g. 10k, 100k, 1m`);
  const unit = (match[2] ?? '').toLowerCase();
  const value = Number(match[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1);
  if (!Number.isInteger(value) || value < 100) throw new Error(`size "${text}" must be ≥ 100`);
  return value;
}

export function formatSize(size: number): string {
  if (size >= 1e6 && size % 1e6 === 0) return `${size / 1e6}M`;
  if (size >= 1e3 && size % 1e3 === 0) return `${size / 1e3}k`;
  return String(size);
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  let json = false;
  let quick = false;
  let sizes: number[] | undefined;
  let parts: Part[] | undefined;
  let docs: boolean | undefined;
  let report: string | undefined;
  let baseline: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i] as string;
    const [flag, inline] = argument.startsWith('--') ? argument.split('=', 2) : [argument];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--json':
        json = true;
        break;
      case '--quick':
        quick = true;
        break;
      case '--sizes':
        sizes = value().split(',').map(parseSize);
        break;
      case '--only':
        parts = value()
          .split(',')
          .map((part) => {
            if (!(PARTS as readonly string[]).includes(part))
              throw new Error(`unknown part "${part}": use ${PARTS.join(',')}`);
            return part as Part;
          });
        break;
      case '--docs':
        docs = true;
        break;
      case '--no-docs':
        docs = false;
        break;
      case '--report':
        report = value();
        break;
      case '--baseline':
        baseline = value();
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new Error(`unknown option "${argument}"\n\n${USAGE}`);
    }
  }
  // The page shows one whole run (bench/report/docs.ts): never a quick or partial one.
  if (docs === true && report === undefined && quick)
    throw new Error('--docs: a --quick run writes no docs');
  if (docs === true && report === undefined && parts !== undefined)
    throw new Error('--docs: the page comes from a run of every part; drop --only');
  const chosenSizes = sizes ?? [...(quick ? QUICK_SIZES : DEFAULT_SIZES)];
  return {
    json,
    quick,
    sizes: [...new Set(chosenSizes)].sort((a, b) => a - b),
    parts: new Set(parts ?? PARTS),
    docs: docs ?? (!quick && sizes === undefined && parts === undefined && report === undefined),
    effort: quick ? 0.5 : 1,
    ...(report !== undefined && { report }),
    ...(baseline !== undefined && { baseline }),
  };
}
