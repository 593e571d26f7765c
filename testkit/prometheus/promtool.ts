/** Runs `promtool check metrics` on an exposition and returns its complaints (empty when clean). */
import { spawnSync } from 'node:child_process';

export function promtoolCheckMetrics(exposition: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], {
    input: exposition,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  const complaints = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0 && complaints === '') return `promtool exited ${result.status}`;
  return complaints;
}
