/**
 * Ends the process without joining its threads. process.exit() joins every worker thread,
 * and one blocked in a system call (open() of a FIFO without a writer, a read from a hung
 * file system) never returns: the process would outlive the stop signal until SIGKILL.
 * The C library's exit() ends every thread at once; the one way Node.js reaches it
 * without a native addon is WASI's proc_exit, which calls it directly.
 */

/** `(module (memory (export "memory") 0) (func (export "_start")))`: WASI needs a start. */
const EMPTY_WASI_MODULE = Buffer.from(
  [
    '0061736d01000000', // magic, version 1
    '010401600000', // types: () -> ()
    '03020100', // functions: one of type 0
    '0503010000', // memories: one of 0 pages
    '071302', // exports: two
    '066d656d6f72790200', // "memory": memory 0
    '065f73746172740000', // "_start": function 0
    '0a040102000b', // code: an empty body
  ].join(''),
  'hex',
);

/** Exits with `code` now, whatever the worker threads are doing. Never returns. */
export async function exitWithoutJoiningThreads(code: number): Promise<never> {
  // node:wasi warns that it is experimental on load; nothing is left to read that warning.
  process.removeAllListeners('warning');
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', returnOnExit: false });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(EMPTY_WASI_MODULE), {
    wasi_snapshot_preview1: wasi.wasiImport,
  });
  wasi.start(instance);
  (wasi.wasiImport.proc_exit as (code: number) => void)(code);
  // proc_exit does not return; should a runtime ever make it, process.exit is next best.
  process.exit(code);
}
