/**
 * Imports in src/ only point down the layer table of docs/architecture.md, and no file
 * reaches itself through its imports (a circle inside one layer). Imports are found with
 * TypeScript's own pre-processor (static, type-only, re-exports, dynamic import()).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../testkit/exporter/exporter-cli.js';

interface Layer {
  readonly name: string;
  /** `src/main.ts` (one file) or `src/commands/` (a folder). */
  readonly path: string;
}

/** The table between `<!-- {name}:start/end -->` in docs/architecture.md, top layer first. */
function readLayers(markdown: string, name = 'layers'): Layer[] {
  const start = markdown.indexOf(`<!-- ${name}:start -->`);
  const end = markdown.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`docs/architecture.md has no ${name} table`);
  const layers: Layer[] = [];
  for (const line of markdown.slice(start, end).split('\n')) {
    const match = /^\| (\w+) \| `([^`]+)` \|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      layers.push({ name: match[1], path: match[2] });
    }
  }
  return layers;
}

interface SourceFile {
  /** Relative to the repository, with forward slashes: `src/commands/serve.ts`. */
  readonly path: string;
  readonly text: string;
}

/** The index of the layer holding `path` (0 = top), or -1. */
function layerOf(layers: readonly Layer[], path: string): number {
  return layers.findIndex((layer) =>
    layer.path.endsWith('/') ? path.startsWith(layer.path) : path === layer.path,
  );
}

/** The repository paths `file` imports by relative path (`.js` specifiers mapped to `.ts`). */
function localImports(file: SourceFile): string[] {
  const { importedFiles } = ts.preProcessFile(file.text, true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => posix.join(posix.dirname(file.path), name).replace(/\.js$/, '.ts'));
}

/** Every problem: files outside all layers, and imports pointing up a layer. */
function layerViolations(layers: readonly Layer[], files: readonly SourceFile[]): string[] {
  /** `src/` or `bench/`: an import elsewhere (testkit/, src/ from bench/) is no layer's business. */
  const root = `${layers[0]?.path.split('/')[0]}/`;
  const problems: string[] = [];
  for (const file of files) {
    const from = layerOf(layers, file.path);
    if (from < 0) {
      problems.push(`${file.path} is in no layer of docs/architecture.md`);
      continue;
    }
    for (const target of localImports(file)) {
      const to = layerOf(layers, target);
      if (to < 0 && target.startsWith(root)) {
        problems.push(`${file.path} imports ${target}, which is in no layer`);
      } else if (to >= 0 && to < from) {
        const [fromLayer, toLayer] = [layers[from]?.name, layers[to]?.name];
        problems.push(`${file.path} (${fromLayer}) imports ${target} (${toLayer}), a layer above`);
      }
    }
  }
  return problems;
}

/**
 * The import circles among `files`: each strongly connected group of two or more files (or
 * a file importing itself), as `a -> b -> a` along one of its cycles (Tarjan's algorithm).
 */
function importCircles(files: readonly SourceFile[]): string[] {
  const known = new Set(files.map((file) => file.path));
  const edges = new Map(
    files.map((file) => [file.path, localImports(file).filter((target) => known.has(target))]),
  );
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[] = [];
  const visit = (path: string): void => {
    index.set(path, index.size);
    lowLink.set(path, index.get(path) as number);
    stack.push(path);
    onStack.add(path);
    for (const target of edges.get(path) ?? []) {
      if (!index.has(target)) {
        visit(target);
        lowLink.set(path, Math.min(lowLink.get(path) as number, lowLink.get(target) as number));
      } else if (onStack.has(target)) {
        lowLink.set(path, Math.min(lowLink.get(path) as number, index.get(target) as number));
      }
    }
    if (lowLink.get(path) !== index.get(path)) return;
    const group = new Set<string>();
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      group.add(member);
      if (member === path) break;
    }
    if (group.size > 1 || edges.get(path)?.includes(path)) circles.push(cycleIn(group, edges));
  };
  for (const file of files) if (!index.has(file.path)) visit(file.path);
  return circles;
}

/** One cycle through the group's first file (in path order), following imports inside it. */
function cycleIn(group: ReadonlySet<string>, edges: ReadonlyMap<string, string[]>): string {
  const start = [...group].sort()[0] as string;
  const path = [start];
  const seen = new Set([start]);
  const walk = (from: string): boolean => {
    for (const target of edges.get(from) ?? []) {
      if (target === start) return true;
      if (!group.has(target) || seen.has(target)) continue;
      seen.add(target);
      path.push(target);
      if (walk(target)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return [...path, start].join(' -> ');
}

function sourceFiles(directory: string): SourceFile[] {
  const files: SourceFile[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, directory), { withFileTypes: true })) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      files.push({ path, text: readFileSync(join(REPO_ROOT, path), 'utf8') });
    }
  }
  return files;
}

const ARCHITECTURE = readFileSync(join(REPO_ROOT, 'docs/architecture.md'), 'utf8');
const LAYERS = readLayers(ARCHITECTURE);
const BENCH_LAYERS = readLayers(ARCHITECTURE, 'bench-layers');
/** The bench's kinds: each measures one thing and shares code only through lib/. */
const BENCH_KINDS = ['engine', 'daemon', 'netns', 'conntrack', 'tracer', 'sysctl'];

/** Imports from one kind of bench into another. */
function crossKindImports(files: readonly SourceFile[]): string[] {
  const kindOf = (path: string) => BENCH_KINDS.find((kind) => path.startsWith(`bench/${kind}/`));
  return files.flatMap((file) =>
    localImports(file)
      .filter((target) => {
        const [from, to] = [kindOf(file.path), kindOf(target)];
        return from !== undefined && to !== undefined && from !== to;
      })
      .map((target) => `${file.path} imports ${target}, another kind`),
  );
}

describe('layers', () => {
  it('reads the layer table, top to bottom', () => {
    expect(LAYERS.map((layer) => layer.name)).toEqual([
      'entry',
      'commands',
      'server',
      'doctor',
      'config',
      'sampler',
      'metrics',
      'collectors',
      'snapshot',
      'cli',
      'log',
      'sources',
    ]);
  });

  it('finds no import in src/ that points up a layer', () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(50);
    expect(layerViolations(LAYERS, files)).toEqual([]);
  });

  it('fails on a planted upward import, of every form', () => {
    const files: SourceFile[] = [
      {
        path: 'src/sources/sockstat.ts',
        text: "import type { Snapshot } from '../snapshot/model.js';",
      },
      {
        path: 'src/snapshot/model.ts',
        text: "export { x } from '../metrics/exporter-metrics.js';",
      },
      { path: 'src/sampler/scheduler.ts', text: "const m = await import('../server/app.js');" },
      { path: 'src/log.ts', text: "import { EXIT } from './config/exit-codes.js';" },
      { path: 'src/commands/serve.ts', text: "import { sample } from '../snapshot/sample.js';" },
      { path: 'src/stray.ts', text: '' },
    ];
    expect(layerViolations(LAYERS, files)).toEqual([
      'src/sources/sockstat.ts (sources) imports src/snapshot/model.ts (snapshot), a layer above',
      'src/snapshot/model.ts (snapshot) imports src/metrics/exporter-metrics.ts (metrics), a layer above',
      'src/sampler/scheduler.ts (sampler) imports src/server/app.ts (server), a layer above',
      'src/log.ts (log) imports src/config/exit-codes.ts (config), a layer above',
      'src/stray.ts is in no layer of docs/architecture.md',
    ]);
  });

  it('finds no import circle between files of src/', () => {
    expect(importCircles(sourceFiles('src'))).toEqual([]);
  });

  it('fails on planted circles: two files, three files, a file importing itself', () => {
    const files: SourceFile[] = [
      { path: 'src/server/a.ts', text: "import type { B } from './b.js';" },
      { path: 'src/server/b.ts', text: "export { a } from './a.js';" },
      { path: 'src/snapshot/x.ts', text: "import './y.js';" },
      { path: 'src/snapshot/y.ts', text: "const z = await import('./z.js');" },
      { path: 'src/snapshot/z.ts', text: "import { x } from './x.js';" },
      { path: 'src/sources/self.ts', text: "import './self.js';" },
      { path: 'src/sources/leaf.ts', text: "import '../snapshot/x.js';" },
    ];
    expect(importCircles(files).sort()).toEqual([
      'src/server/a.ts -> src/server/b.ts -> src/server/a.ts',
      'src/snapshot/x.ts -> src/snapshot/y.ts -> src/snapshot/z.ts -> src/snapshot/x.ts',
      'src/sources/self.ts -> src/sources/self.ts',
    ]);
  });

  it('resolves imports relative to the importing file', () => {
    const file = { path: 'src/commands/serve.ts', text: "import '../server/app.js';" };
    expect(localImports(file)).toEqual(['src/server/app.ts']);
  });
});

describe('bench layers', () => {
  it('reads the bench table, top to bottom, with every kind in it', () => {
    expect(BENCH_LAYERS.map((layer) => layer.name)).toEqual([
      'run',
      'report',
      ...BENCH_KINDS,
      'lib',
    ]);
  });

  it('finds every bench file in a layer, no import up a layer, across kinds or in a circle', () => {
    const files = sourceFiles('bench');
    expect(files.length).toBeGreaterThan(30);
    expect(layerViolations(BENCH_LAYERS, files)).toEqual([]);
    expect(crossKindImports(files)).toEqual([]);
    expect(importCircles(files)).toEqual([]);
  });

  it('fails on a planted upward import, a stray file and an import across kinds', () => {
    const files: SourceFile[] = [
      { path: 'bench/lib/measure.ts', text: "import { x } from '../engine/real-bench.js';" },
      {
        path: 'bench/daemon/footprint-bench.ts',
        text: "import { y } from '../netns/netns-table.js';",
      },
      // Built at run time: test/repo/loaded-files.test.ts takes a quoted bench/ path for a load.
      { path: `bench/${'stray'}.ts`, text: '' },
    ];
    expect(layerViolations(BENCH_LAYERS, files)).toEqual([
      'bench/lib/measure.ts (lib) imports bench/engine/real-bench.ts (engine), a layer above',
      'bench/stray.ts is in no layer of docs/architecture.md',
    ]);
    expect(crossKindImports(files)).toEqual([
      'bench/daemon/footprint-bench.ts imports bench/netns/netns-table.ts, another kind',
    ]);
  });
});
