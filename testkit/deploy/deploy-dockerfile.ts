/**
 * A Dockerfile reader and a build emulator for the one Dockerfile of this project. There is
 * no Docker engine here, so the emulator replays the stages on the host: each stage's WORKDIR
 * becomes a temp directory, COPY copies from the build context (honouring .dockerignore) or
 * from an earlier stage's directory, and RUN executes its npm commands there. Anything it
 * cannot replay faithfully (paths outside WORKDIR, non-npm RUN commands, globs) is an error,
 * so a passing emulation means the image's steps really produce a working /app.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** Splits a Dockerfile into stages of instructions: comments dropped, continuations joined. */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match?.[1] === undefined) return;
    instructions.push({ keyword: match[1].toUpperCase(), args: match[2] ?? '', line: startLine });
  });
  if (pending !== '') throw new Error('Dockerfile ends inside a line continuation');

  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push({
        image: words[0] ?? '',
        name: asIndex >= 0 ? words[asIndex + 1] : undefined,
        instructions: [],
      });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) {
        if (instruction.keyword === 'ARG') continue;
        throw new Error(`line ${instruction.line}: ${instruction.keyword} before any FROM`);
      }
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** The exec-form (JSON array) arguments of ENTRYPOINT/CMD, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`not a JSON array of strings: ${args}`);
  }
  return parsed;
}

export interface CopyInstruction {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export function parseCopy(args: string): CopyInstruction {
  const words = execForm(args) ?? args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const fromFlag = flags.find((flag) => flag.startsWith('--from='));
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0) throw new Error(`bad COPY: ${args}`);
  return { from: fromFlag?.slice('--from='.length), sources: paths, destination };
}

/** The last instruction with this keyword in a stage (later ones override earlier ones). */
export function lastInstruction(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
}

function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*' && pattern[i + 1] === '*') {
      const slashFollows = pattern[i + 2] === '/';
      source += slashFollows ? '(?:.*/)?' : '.*';
      i += slashFollows ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * .dockerignore semantics as Docker applies them: patterns are anchored at the context root,
 * a pattern matching a parent directory matches everything below it, `!` re-includes, and
 * the last matching pattern wins.
 */
export function dockerignoreMatcher(text: string): (relativePath: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = posix.normalize((negated ? line.slice(1) : line).trim()).replace(/^\/+/, '');
      return { negated, regexp: patternToRegExp(pattern.replace(/\/+$/, '')) };
    });
  return (relativePath) => {
    const segments = relativePath.split('/');
    const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (prefixes.some((prefix) => rule.regexp.test(prefix))) excluded = !rule.negated;
    }
    return excluded;
  };
}

/** Every file under a path (the path itself when it is a file), relative to `root`. */
function filesUnder(root: string, path: string): string[] {
  const absolute = join(root, path);
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute).flatMap((entry) => filesUnder(root, posix.join(path, entry)));
}

export interface EmulatedImage {
  /** Host directory standing in for the final stage's WORKDIR. */
  readonly appDir: string;
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly exposedPorts: readonly string[];
  /** ENTRYPOINT followed by CMD, container paths under WORKDIR mapped to `appDir`. */
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** Maps a container path under WORKDIR to the host directory. */
  readonly hostPath: (containerPath: string) => string;
}

interface StageState {
  dir: string;
  workdir: string | undefined;
  env: Record<string, string>;
}

function stageHostPath(state: StageState, containerPath: string): string {
  if (state.workdir === undefined) throw new Error('COPY/RUN before WORKDIR cannot be emulated');
  const absolute = posix.resolve(state.workdir, containerPath);
  const inside = posix.relative(state.workdir, absolute);
  if (inside.startsWith('..')) {
    throw new Error(`${containerPath} is outside WORKDIR ${state.workdir}: cannot emulate`);
  }
  return join(state.dir, inside);
}

function copyInto(sourcePath: string, destination: string, many: boolean): void {
  const isDirectory = statSync(sourcePath).isDirectory();
  const target =
    !isDirectory && (many || destination.endsWith('/'))
      ? join(destination, basename(sourcePath))
      : destination;
  mkdirSync(isDirectory ? target : dirname(target), { recursive: true });
  cpSync(sourcePath, target, { recursive: true });
}

/**
 * Replays every stage of the Dockerfile in `contextDir` under `buildDir` (RUN commands really
 * run, with the stage's ENV) and returns what the final stage would start.
 */
export function emulateDockerBuild(contextDir: string, buildDir: string): EmulatedImage {
  const stages = parseDockerfile(readFileSync(join(contextDir, 'Dockerfile'), 'utf8'));
  const ignorePath = join(contextDir, '.dockerignore');
  const isIgnored = existsSync(ignorePath)
    ? dockerignoreMatcher(readFileSync(ignorePath, 'utf8'))
    : () => false;
  const done = new Map<string, StageState>();
  let last: { stage: Stage; state: StageState } | undefined;

  stages.forEach((stage, index) => {
    const state: StageState = {
      dir: join(buildDir, `stage-${index}`),
      workdir: undefined,
      env: {},
    };
    mkdirSync(state.dir, { recursive: true, mode: 0o755 });
    for (const instruction of stage.instructions) {
      const where = `Dockerfile line ${instruction.line}`;
      switch (instruction.keyword) {
        case 'WORKDIR':
          state.workdir = posix.resolve(state.workdir ?? '/', instruction.args);
          mkdirSync(stageHostPath(state, '.'), { recursive: true, mode: 0o755 });
          break;
        case 'ENV': {
          for (const pair of instruction.args.split(/\s+/)) {
            const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(pair);
            if (!match?.[1])
              throw new Error(`${where}: only ENV KEY=value [KEY=value...] is emulated`);
            state.env[match[1]] = match[2] ?? '';
          }
          break;
        }
        case 'COPY': {
          const copy = parseCopy(instruction.args);
          const destination = stageHostPath(state, copy.destination);
          const many = copy.sources.length > 1;
          for (const source of copy.sources) {
            if (/[*?[]/.test(source)) throw new Error(`${where}: globs are not emulated`);
            if (copy.from !== undefined) {
              const from = done.get(copy.from);
              if (from === undefined) throw new Error(`${where}: no earlier stage ${copy.from}`);
              copyInto(stageHostPath(from, source), destination, many);
              continue;
            }
            const relativeSource = posix.normalize(source).replace(/^\/+/, '');
            if (!existsSync(join(contextDir, relativeSource))) {
              throw new Error(`${where}: ${source} does not exist in the build context`);
            }
            const kept = filesUnder(contextDir, relativeSource).filter((file) => !isIgnored(file));
            if (kept.length === 0) {
              throw new Error(`${where}: ${source} is excluded by .dockerignore`);
            }
            const isDirectory = statSync(join(contextDir, relativeSource)).isDirectory();
            for (const file of kept) {
              const inner = isDirectory ? relative(relativeSource, file) : basename(file);
              const target =
                isDirectory || many || copy.destination.endsWith('/')
                  ? join(destination, inner)
                  : destination;
              mkdirSync(dirname(target), { recursive: true });
              cpSync(join(contextDir, file), target);
            }
          }
          break;
        }
        case 'RUN': {
          const commands = instruction.args.split('&&').map((part) => part.trim());
          const foreign = commands.find((command) => !/^npm\s/.test(command));
          if (foreign !== undefined) throw new Error(`${where}: cannot emulate \`${foreign}\``);
          const result = spawnSync('sh', ['-c', instruction.args], {
            cwd: stageHostPath(state, '.'),
            env: { ...process.env, ...state.env },
            encoding: 'utf8',
            timeout: 300_000,
          });
          if (result.status !== 0) {
            // npm appends its whole usage text to some errors: keep the lines before it.
            const lines = `${result.stderr}`
              .split('\n')
              .filter((line) => !line.startsWith('npm warn') && line.trim() !== 'npm error');
            const usage = lines.findIndex((line) =>
              /^npm error (Clean install|Run "npm help)/.test(line),
            );
            const why = lines.slice(0, usage < 0 ? 20 : Math.min(usage, 20)).join('\n');
            throw new Error(`${where}: RUN ${instruction.args} exited ${result.status}\n${why}`);
          }
          break;
        }
        case 'USER':
        case 'EXPOSE':
        case 'ENTRYPOINT':
        case 'CMD':
        case 'LABEL':
          break;
        default:
          throw new Error(`${where}: ${instruction.keyword} is not emulated`);
      }
    }
    done.set(String(index), state);
    if (stage.name !== undefined) done.set(stage.name, state);
    last = { stage, state };
  });

  if (last === undefined) throw new Error('Dockerfile has no stage');
  const { stage, state } = last;
  const workdir = state.workdir ?? '/';
  const hostPath = (containerPath: string): string => stageHostPath(state, containerPath);
  const mapArgument = (argument: string): string =>
    argument.startsWith(`${workdir}/`) ? hostPath(argument) : argument;
  const entrypointArgs = lastInstruction(stage, 'ENTRYPOINT')?.args;
  const cmdArgs = lastInstruction(stage, 'CMD')?.args;
  return {
    appDir: hostPath('.'),
    workdir,
    env: state.env,
    user: lastInstruction(stage, 'USER')?.args,
    exposedPorts: stage.instructions
      .filter((instruction) => instruction.keyword === 'EXPOSE')
      .flatMap((instruction) => instruction.args.split(/\s+/)),
    entrypoint: (entrypointArgs === undefined ? [] : (execForm(entrypointArgs) ?? [])).map(
      mapArgument,
    ),
    cmd: cmdArgs === undefined ? [] : (execForm(cmdArgs) ?? []),
    hostPath,
  };
}
