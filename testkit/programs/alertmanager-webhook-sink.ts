/**
 * A webhook receiver for Alertmanager, run as its own process so it can live inside a
 * network namespace: appends every notification as one JSON line to a file the test reads.
 *
 *   node --import tsx testkit/programs/alertmanager-webhook-sink.ts PORT FILE
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, file] = process.argv.slice(2);
if (port === undefined || file === undefined) {
  console.error('usage: alertmanager-webhook-sink.ts PORT FILE');
  process.exit(2);
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'POST') {
      const body = Buffer.concat(chunks).toString('utf8');
      appendFileSync(file, `${JSON.stringify(JSON.parse(body))}\n`);
    }
    response.writeHead(200).end();
  });
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
