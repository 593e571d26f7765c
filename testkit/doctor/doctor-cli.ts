/**
 * Runs `doctor` in-process with captured output, builds a fixture case's report the way the
 * command does, validates its JSON, finds every procfs fixture tree.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { runDoctor } from '../../src/commands/doctor.js';
import { analyse } from '../../src/doctor/analyse.js';
import { DOCTOR_OUTPUT_SCHEMA } from '../../src/doctor/output-schema.js';
import { buildReport, type DoctorReport } from '../../src/doctor/report.js';
import {
  caseDirs,
  DOCTOR_CASES,
  DOCTOR_FIXTURES_DIR,
  type DoctorCase,
  FIXTURE_WINDOW_SECONDS,
  sampleCase,
} from './doctor-fixtures.js';

export interface DoctorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

export async function runDoctorCaptured(argv: readonly string[]): Promise<DoctorRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const code = await runDoctor([...argv], { stdout, stderr });
  return { code, stdout: out(), stderr: err() };
}

/** `doctor --format json` on one procfs tree; `--window 0` (one sample) unless given. */
export function runDoctorJson(procfsRoot: string, window = '0'): Promise<DoctorRun> {
  return runDoctorCaptured(['--path.procfs', procfsRoot, '--window', window, '--format', 'json']);
}

/** The report doctor gives for a case over FIXTURE_WINDOW_SECONDS, built as the command builds it. */
export function caseReport(testCase: DoctorCase): DoctorReport {
  const { first, second } = sampleCase(testCase);
  if (second.sockets === undefined) throw new Error('fixture without socket tables');
  return buildReport(
    first,
    { ...second, sockets: second.sockets },
    FIXTURE_WINDOW_SECONDS,
    analyse(first, second, FIXTURE_WINDOW_SECONDS),
  );
}

const FIXTURES_DIR = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/**
 * Every procfs tree under test/fixtures: the doctor cases (both samples) and the trees
 * other areas captured (`test/fixtures/NAME/proc`, or NAME itself when it holds net/tcp).
 */
export function allProcfsFixtureRoots(): string[] {
  const roots = new Set<string>();
  for (const testCase of DOCTOR_CASES) {
    const dirs = caseDirs(DOCTOR_FIXTURES_DIR, testCase);
    roots.add(dirs.proc).add(dirs.procBefore);
  }
  for (const entry of readdirSync(FIXTURES_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'doctor') continue;
    const dir = join(FIXTURES_DIR, entry.name);
    if (existsSync(join(dir, 'proc', 'net', 'tcp'))) roots.add(join(dir, 'proc'));
    else if (existsSync(join(dir, 'net', 'tcp'))) roots.add(dir);
  }
  return [...roots].sort();
}

const validateReport = new Ajv({ allErrors: true, strict: true })
  // Formats are not checked (no ajv-formats); callers parse the date themselves.
  .addFormat('date-time', true)
  .compile(DOCTOR_OUTPUT_SCHEMA);

/** Schema violations of a parsed `--format json` report; empty when it is valid. */
export function doctorSchemaErrors(report: unknown): unknown[] {
  return validateReport(report) ? [] : [...(validateReport.errors ?? [])];
}
