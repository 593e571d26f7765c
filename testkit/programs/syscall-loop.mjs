// The syscall-heavy loops of bench/tracer/tracer-bench.ts, run inside a lab namespace: `getppid`
// getppid() calls (process.ppid asks the kernel each time), then `connects` connect()/close()
// pairs to a listener of its own on 127.0.0.1. Prints {getppidNs, connectUs}: the time of one
// of each, measured by this process.
import net from 'node:net';

const { getppid, connects } = JSON.parse(process.argv[2]);
let sink = 0;
const started = process.hrtime.bigint();
for (let i = 0; i < getppid; i++) sink += process.ppid;
const getppidNs = Number(process.hrtime.bigint() - started) / getppid;

const server = net.createServer((socket) => socket.destroy());
await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 8080 }, resolve));
const connectStart = process.hrtime.bigint();
for (let i = 0; i < connects; i++) {
  await new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: 8080 });
    socket.once('connect', () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
const connectUs = Number(process.hrtime.bigint() - connectStart) / 1000 / connects;
server.close();
process.stdout.write(`${JSON.stringify({ getppidNs, connectUs, sink: sink > 0 })}\n`);
