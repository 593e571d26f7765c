/** Where a command writes; the process streams in production, buffers in tests. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Resolves once the text is handed to the OS, so exiting right after loses nothing. */
export function writeText(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

/** A one-line fatal message in the usual `program: message` form. */
export function writeProblem(
  io: CommandIo,
  message: string,
  program = 'tcpstate-exporter',
): Promise<void> {
  return writeText(io.stderr, `${program}: ${message}\n`);
}
