import * as PromClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectDefaultMetrics, Registry } from '../../src/metrics/prom-client.js';

/** name, help, type and label names of every family, in the order they are printed. */
async function families(registry: PromClient.Registry) {
  const text = await registry.metrics();
  return {
    declared: registry.getMetricsAsArray().map(({ name, help, type }) => ({ name, help, type })),
    headers: text.split('\n').filter((line) => line.startsWith('# ')),
  };
}

function cpuSeconds(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe("prom-client's parts, required file by file", () => {
  it('register the default metrics the index registers, in its order', async () => {
    const ours = new Registry();
    collectDefaultMetrics(ours);
    const theirs = new PromClient.Registry();
    PromClient.collectDefaultMetrics({ register: theirs });
    expect(await families(ours)).toEqual(await families(theirs));
  });

  it('count the process CPU, user and system adding up to the total', async () => {
    const registry = new Registry();
    collectDefaultMetrics(registry);
    const before = cpuSeconds(await registry.metrics(), 'process_cpu_seconds_total');
    const until = performance.now() + 50;
    while (performance.now() < until) Math.sqrt(Math.random());
    const text = await registry.metrics();
    const total = cpuSeconds(text, 'process_cpu_seconds_total');
    expect(total - before).toBeGreaterThanOrEqual(0.03);
    expect(
      cpuSeconds(text, 'process_cpu_user_seconds_total') +
        cpuSeconds(text, 'process_cpu_system_seconds_total'),
    ).toBeCloseTo(total, 6);
  });
});
