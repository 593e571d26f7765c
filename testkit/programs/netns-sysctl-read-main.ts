/**
 * Reads namespaces' sysctls through NamespaceSysctlCache in a process of its own, so a test
 * can run it without privileges (setpriv). argv[2]: JSON { nsFiles, rounds, checkCapability }.
 * Each round awaits a fresh read of every namespace (refresh interval 1 ms, so every round
 * reads again); prints { rounds: NamespaceSysctls[][], assumed: [reason, failure][] }.
 */

import type { NamespaceReadFailure, NamespaceSysctls } from '../../src/sources/netns-sysctl.js';
import { NamespaceSysctlCache } from '../../src/sources/netns-sysctl-cache.js';

const { nsFiles, rounds, checkCapability } = JSON.parse(process.argv[2] ?? '{}') as {
  nsFiles: string[];
  rounds: number;
  checkCapability: boolean;
};
const assumed: [string, NamespaceReadFailure][] = [];
const cache = new NamespaceSysctlCache({
  refreshMs: 1,
  onAssumed: (reason, failure) => assumed.push([reason, failure]),
  // Without the check, nsenter is started and meets the kernel's refusal itself.
  ...(checkCapability ? {} : { entryProblem: () => undefined }),
});
const results: NamespaceSysctls[][] = [];
for (let round = 0; round < rounds; round++) {
  await new Promise((resolve) => setTimeout(resolve, 2));
  results.push(await Promise.all(nsFiles.map((nsFile, index) => cache.fresh(index, nsFile))));
}
cache.close();
process.stdout.write(JSON.stringify({ rounds: results, assumed }));
