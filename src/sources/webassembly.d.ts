/**
 * The part of the WebAssembly JavaScript API that the line decoder and hard-exit.ts use. Node has all of
 * it; @types/node 20 declares none of it (it lives in TypeScript's DOM library).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Global {
    readonly value: unknown;
  }
}
