/**
 * A long-lived `sh` that, for each namespace file written to it, runs
 * `nsenter --net=<file> -- grep -sH '' <files>` and answers with the output and the status.
 * Node's spawn() waits in the event loop until the new child has exec'd, measured at ~60 ms
 * per child on a loaded 2-core machine: one child per namespace read would stall /metrics
 * for that long each time. The shell does the forking; the exporter only writes and reads pipes.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** Ends each answer; a line grep cannot print (its lines start with a path). */
const END_MARK = '@@tcpstate-nsenter-end';

/** $0: the nsenter program, $@: the files to print. nsenter's own errors go to stdout too. */
const SCRIPT = `while IFS= read -r ns; do "$0" --net="$ns" -- grep -sH '' "$@" 2>&1; printf '\\n${END_MARK} %s\\n' "$?"; done`;

const ANSWER = new RegExp(`\\n${END_MARK} (\\d+)\\n$`);

export interface NsenterAnswer {
  /** nsenter's status: grep's (0, or 2 when a file was missing), or nsenter's own failure. */
  readonly status: number;
  readonly output: string;
}

interface Asked {
  readonly resolve: (answer: NsenterAnswer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class NsenterShell {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private output = '';
  private asked: Asked | undefined;
  private ended: string | undefined;

  constructor(
    nsenter: string,
    files: readonly string[],
    private readonly maxOutputBytes: number,
  ) {
    // Its own process group, so a kill also ends the nsenter or grep it is waiting for.
    this.child = spawn('sh', ['-c', SCRIPT, nsenter, ...files], {
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    // Never keeps the exporter alive; a read in flight does (its timer).
    this.child.unref();
    this.child.stdin.on('error', () => {});
    this.child.stdout.setEncoding('latin1');
    this.child.stdout.on('data', (chunk: string) => this.onOutput(chunk));
    this.child.once('error', (error) => this.end(error.message));
    this.child.once('exit', (code, signal) =>
      this.end(`the reader shell ended (${code ?? signal})`),
    );
    for (const stream of [this.child.stdin, this.child.stdout]) {
      (stream as unknown as { unref?: () => void }).unref?.();
    }
  }

  /** False once the shell has ended or was killed: it takes no more reads. */
  get usable(): boolean {
    return this.ended === undefined && this.asked === undefined;
  }

  /** One read; rejects when the shell ends first or no answer comes within `timeoutMs`. */
  run(nsFile: string, timeoutMs: number): Promise<NsenterAnswer> {
    if (this.ended !== undefined) return Promise.reject(new Error(this.ended));
    if (this.asked !== undefined) throw new Error('the reader shell is busy');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill(`no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      this.asked = { resolve, reject, timer };
      this.output = '';
      this.child.stdin.write(`${nsFile}\n`);
    });
  }

  /** Ends the shell and whatever it runs; a read in flight rejects with `why`. */
  kill(why = 'closed'): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.end(why);
  }

  private onOutput(chunk: string): void {
    this.output += chunk;
    const asked = this.asked;
    if (asked === undefined) return;
    const end = ANSWER.exec(this.output);
    if (end !== null) {
      this.asked = undefined;
      clearTimeout(asked.timer);
      asked.resolve({ status: Number(end[1]), output: this.output.slice(0, end.index) });
      this.output = '';
    } else if (this.output.length > this.maxOutputBytes) {
      this.kill(`more than ${this.maxOutputBytes} bytes of output`);
    }
  }

  private end(why: string): void {
    this.ended ??= why;
    const asked = this.asked;
    this.asked = undefined;
    if (asked === undefined) return;
    clearTimeout(asked.timer);
    asked.reject(new Error(why));
  }
}
