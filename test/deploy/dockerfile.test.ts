/**
 * The Dockerfile's rules, read from the file (hadolint-style): what a build would only show
 * at run time or never. The image itself is built and run by container-image.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import { repoRoot } from '../../testkit/deploy/deploy-config.js';
import {
  dockerignoreMatcher,
  execForm,
  lastInstruction,
  parseCopy,
  parseDockerfile,
  type Stage,
} from '../../testkit/deploy/deploy-dockerfile.js';
import { launcherOf } from '../../testkit/exporter/launcher.js';

const stages = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1) as Stage;
const stageNames = new Set(stages.flatMap((stage) => (stage.name ? [stage.name] : [])));
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};

function runCommands(stage: Stage): string[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === 'RUN')
    .flatMap((instruction) => instruction.args.split('&&').map((part) => part.trim()));
}

function defaultPort(): number {
  const port = /:(\d+)$/.exec(EXPORTER_FLAGS.listenAddress.default)?.[1];
  if (port === undefined) throw new Error('default listen address has no port');
  return Number(port);
}

describe('Dockerfile rules', () => {
  it('is multi-stage on Node 24 images pinned to an exact version', () => {
    expect(stages.length).toBeGreaterThanOrEqual(1);
    for (const stage of stages) {
      if (stageNames.has(stage.image)) continue;
      const [repository, tag] = stage.image.split(':');
      expect(repository, stage.image).toBe('node');
      // An exact release (24.x.y), never latest or a moving major tag like 24-slim.
      expect(tag, stage.image).toMatch(/^24\.\d+\.\d+-[a-z]+-slim$/);
    }
  });

  it('runs the final stage as a numeric non-root user', () => {
    const user = lastInstruction(runtime, 'USER')?.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    for (const id of (user ?? '0').split(':')) expect(Number(id)).toBeGreaterThan(0);
  });

  it('installs with npm ci from a copied lockfile, never npm install', () => {
    for (const stage of stages) {
      const commands = runCommands(stage);
      expect(commands.filter((command) => /^npm\s+(install|i|add)\b/.test(command))).toEqual([]);
      const firstCi = stage.instructions.findIndex(
        (instruction) => instruction.keyword === 'RUN' && /\bnpm\s+ci\b/.test(instruction.args),
      );
      if (firstCi < 0) continue;
      const lockCopied = stage.instructions
        .slice(0, firstCi)
        .some(
          (instruction) =>
            instruction.keyword === 'COPY' &&
            parseCopy(instruction.args).from === undefined &&
            parseCopy(instruction.args).sources.includes('package-lock.json'),
        );
      expect(lockCopied, `stage ${stage.name}: lockfile copied before npm ci`).toBe(true);
    }
  });

  it('gives the runtime stage production dependencies and the build output only', () => {
    const commands = runCommands(runtime);
    const installs = commands.filter((command) => /^npm\s+ci\b/.test(command));
    expect(installs.length).toBe(1);
    for (const install of installs) expect(install).toMatch(/\s--omit=dev\b/);
    expect(commands.filter((command) => /^npm\s+run\b/.test(command))).toEqual([]);
    const contextCopies = runtime.instructions
      .filter((instruction) => instruction.keyword === 'COPY')
      .map((instruction) => parseCopy(instruction.args))
      .filter((copy) => copy.from === undefined)
      .flatMap((copy) => copy.sources);
    expect(contextCopies.sort()).toEqual(['package-lock.json', 'package.json']);
  });

  it('exposes the default listen port of the flag table', () => {
    const exposed = runtime.instructions
      .filter((instruction) => instruction.keyword === 'EXPOSE')
      .flatMap((instruction) => instruction.args.split(/\s+/));
    expect(exposed).toEqual([String(defaultPort())]);
  });

  it('starts the packaged bin with node in exec form, reading the host /proc at /host/proc', () => {
    const entrypoint = execForm(lastInstruction(runtime, 'ENTRYPOINT')?.args ?? '');
    const workdir = lastInstruction(runtime, 'WORKDIR')?.args;
    // With the environment and node flags of the bin's #! line, as when run from npm.
    const launcher = launcherOf(join(repoRoot, 'src/main.ts'));
    const env = runtime.instructions
      .filter((instruction) => instruction.keyword === 'ENV')
      .flatMap((instruction) => instruction.args.split(/\s+/));
    for (const [name, value] of Object.entries(launcher.env)) {
      expect(env).toContain(`${name}=${value}`);
    }
    expect(entrypoint).toEqual([
      'node',
      ...launcher.nodeFlags,
      `${workdir}/${packageJson.bin['tcpstate-exporter']}`,
    ]);
    expect(execForm(lastInstruction(runtime, 'CMD')?.args ?? '')).toEqual([
      '--path.procfs=/host/proc',
    ]);
  });

  it('uses COPY not ADD, absolute WORKDIRs and no package manager but npm', () => {
    for (const stage of stages) {
      for (const instruction of stage.instructions) {
        expect(instruction.keyword, `line ${instruction.line}`).not.toBe('ADD');
        if (instruction.keyword === 'WORKDIR') expect(instruction.args).toMatch(/^\//);
      }
      const others = /^(apt|apt-get|dpkg|apk|dnf|yum|yarn|pnpm|corepack|pip3?)\s/;
      expect(runCommands(stage).filter((command) => others.test(command))).toEqual([]);
    }
  });

  it('keeps node_modules, dist, tests and .git out of the context but every copied path in', () => {
    const ignored = dockerignoreMatcher(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
    for (const path of ['node_modules/fastify/package.json', 'dist/main.js', '.git/HEAD']) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of ['test/deploy/dockerfile.test.ts', 'bench/run.ts', 'x.tgz']) {
      expect(ignored(path), path).toBe(true);
    }
    const contextSources = stages
      .flatMap((stage) => stage.instructions)
      .filter((instruction) => instruction.keyword === 'COPY')
      .map((instruction) => parseCopy(instruction.args))
      .filter((copy) => copy.from === undefined)
      .flatMap((copy) => copy.sources);
    for (const source of contextSources) expect(ignored(source), source).toBe(false);
  });
});

describe('dockerignore matching', () => {
  it('follows Docker: anchored patterns, parent matches, last match wins, ** spans dirs', () => {
    const ignored = dockerignoreMatcher('*\n!src\nsrc/**/*.test.ts\n# comment\n/docs\n');
    expect(ignored('README.md')).toBe(true);
    expect(ignored('src/main.ts')).toBe(false);
    expect(ignored('src/a/b/x.test.ts')).toBe(true);
    expect(ignored('src/x.test.ts')).toBe(true);
    const anchored = dockerignoreMatcher('dist\n');
    expect(anchored('dist/main.js')).toBe(true);
    expect(anchored('src/dist/x.ts')).toBe(false);
  });
});
