/**
 * The memory floor: the stack the design prescribes (fastify 5 listening, prom-client's
 * default metrics in a Registry served on /metrics, pino, one worker thread that imports
 * prom-client), doing nothing else. What any exporter built on it costs before its own work.
 * argv: --web.listen-address=HOST:PORT
 */
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';

const address = process.argv.find((value) => value.startsWith('--web.listen-address='));
const [host, port] = (address?.split('=')[1] ?? '127.0.0.1:0').split(':');
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const app = Fastify({ loggerInstance: pino({ level: 'warn' }) });
app.get('/metrics', async (_request, reply) =>
  reply.type(registry.contentType).send(await registry.metrics()),
);
await app.listen({ host, port: Number(port) });
// Resolved here: an eval worker resolves bare names from the process's cwd.
const promClient = JSON.stringify(import.meta.resolve('prom-client'));
new Worker(`import(${promClient}).then(() => setInterval(() => {}, 1000))`, { eval: true });
