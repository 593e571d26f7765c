import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A test that asserts nothing fails (the file says why).
    setupFiles: ['testkit/vitest/require-assertions.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real-kernel tests create network namespaces and start servers: keep files serial
    // so two tests never fight over one namespace name or CPU-bound timing.
    fileParallelism: false,
    reporters: ['default'],
  },
});
