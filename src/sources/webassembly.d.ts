/**
 * The part of the WebAssembly JavaScript API that the line decoder uses. Node has all of
 * it; @types/node 20 declares none of it (it lives in TypeScript's DOM library).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Global {
    readonly value: unknown;
  }
}
