/**
 * The Dockerfile, checked without a Docker engine: hadolint-style rules read from the file,
 * then the build replayed on the host (testkit/deploy/deploy-dockerfile.ts) and the resulting
 * command started as the image would start it: as its USER, on a read-only root filesystem,
 * with the host's /proc bound where the image expects it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORTER_FLAGS } from '../../src/config/flags.js';
import { repoRoot } from '../../testkit/deploy/deploy-config.js';
import {
  dockerignoreMatcher,
  type EmulatedImage,
  emulateDockerBuild,
  execForm,
  lastInstruction,
  parseCopy,
  parseDockerfile,
  type Stage,
} from '../../testkit/deploy/deploy-dockerfile.js';
import {
  expectCleanExpositionCountingListener,
  loopbackListener,
  sandboxed,
} from '../../testkit/deploy/deploy-runtime.js';
import { launcherOf } from '../../testkit/exporter/launcher.js';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { freeLoopbackPort } from '../../testkit/prometheus/prometheus-daemon.js';

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
      expect(runCommands(stage).filter((command) => !/^npm\s/.test(command))).toEqual([]);
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

describe.skipIf(
  !canRun('Dockerfile emulation', { root: true, commands: ['unshare', 'setpriv', 'promtool'] }),
)('the runtime stage, replayed on this host', () => {
  let buildDir: string;
  let image: EmulatedImage;
  let hostProcDir: string;
  let listener: Server;
  let daemon: ChildProcess | undefined;

  beforeAll(async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'tcpstate-docker-'));
    // mkdtemp makes 0700; the image's USER must be able to enter, as in a real image.
    chmodSync(buildDir, 0o755);
    image = emulateDockerBuild(repoRoot, buildDir);
    hostProcDir = join(buildDir, 'host', 'proc');
    mkdirSync(hostProcDir, { recursive: true });
    listener = await loopbackListener();
  }, 300_000);

  afterAll(() => {
    daemon?.kill('SIGKILL');
    listener?.close();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  /** CMD's arguments as a user keeps them, /host/proc pointing at our bind of /proc. */
  function imageArguments(extra: readonly string[]): string[] {
    const cmd = image.cmd.map((argument) =>
      argument === '--path.procfs=/host/proc' ? `--path.procfs=${hostProcDir}` : argument,
    );
    return [...image.entrypoint, ...cmd, ...extra];
  }

  function spawnOptions(command: readonly string[]) {
    const wrapped = sandboxed(command, { user: image.user ?? '', hostProcDir });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...image.env, ...wrapped.env };
    return { wrapped, env };
  }

  it('copies exactly the build output and production dependencies into the app dir', () => {
    const installed = JSON.parse(
      readFileSync(image.hostPath('node_modules/.package-lock.json'), 'utf8'),
    ) as { packages: Record<string, { dev?: boolean }> };
    const devPackages = Object.entries(installed.packages).filter(([, entry]) => entry.dev);
    expect(devPackages.map(([path]) => path)).toEqual([]);
    expect(Object.keys(installed.packages)).toContain('node_modules/prom-client');
    expect(image.env.NODE_ENV).toBe('production');
  });

  it('--once prints a clean exposition that counts our loopback listener', () => {
    const { wrapped, env } = spawnOptions(imageArguments(['--once']));
    const result = spawnSync(wrapped.file, wrapped.args, {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).not.toMatch(/EROFS|EACCES/);
    expect(result.status, result.stderr).toBe(0);
    expectCleanExpositionCountingListener(result.stdout);
  });

  it('serves /metrics and the probes as a daemon, and stops cleanly on SIGTERM', async () => {
    const port = await freeLoopbackPort();
    const { wrapped, env } = spawnOptions(
      imageArguments([`--web.listen-address=127.0.0.1:${port}`, '--sample.interval=1s']),
    );
    const child = spawn(wrapped.file, wrapped.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    daemon = child;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    let ready = 0;
    for (let attempt = 0; attempt < 100 && ready !== 200; attempt++) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      ready = await fetch(`${base}/-/ready`).then(
        (response) => response.status,
        () => 0,
      );
    }
    expect(ready, output).toBe(200);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    const metrics = await (await fetch(`${base}${EXPORTER_FLAGS.telemetryPath.default}`)).text();
    expectCleanExpositionCountingListener(metrics);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    daemon = undefined;
    expect(code, output).toBe(0);
    expect(output).not.toMatch(/EROFS|EACCES/);
  });
});
