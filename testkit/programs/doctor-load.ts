/**
 * Bounded TCP load for the doctor's real-namespace test, run inside a namespace with
 * `ip netns exec NS tsx doctor-load.ts MODE ...`. Every mode ends by itself.
 *
 *   serve HOST PORTS SECONDS         accept on PORTS (9000 or 9001-9010); close each connection
 *                                    once the client has closed it
 *   stall HOST PORT SECONDS          listen with backlog 1 and never accept (the thread sleeps)
 *   connect HOST PORT COUNT          COUNT connections one after another, each closed by this side first
 *   churn HOST PORT SECONDS RATE     about RATE connections a second, each closed by this side first
 *                                    (or dropped after 1 s when it does not connect)
 *   hold HOST PORTS MAX SECONDS [LOCAL]
 *                                    open connections one after another, round robin over PORTS,
 *                                    until MAX are open or one fails; keep them open. With LOCAL
 *                                    each socket binds to that address before connect() (port 0).
 *
 * `serve` and `stall` print "listening" once the ports are open; `connect` prints "done N";
 * `hold` prints "held N" (the connections that succeeded) and keeps them until SECONDS end.
 */
import net from 'node:net';

const CONNECT_TIMEOUT_MS = 1_000;

/** `9000` or `9001-9010`, inclusive. */
function parsePorts(text: string): number[] {
  const [low = Number.NaN, high = low] = text.split('-').map(Number);
  return Array.from({ length: high - low + 1 }, (_, index) => low + index);
}

async function serve(host: string, ports: readonly number[], seconds: number): Promise<void> {
  setTimeout(() => process.exit(0), seconds * 1000);
  await Promise.all(
    ports.map(
      (port) =>
        new Promise<void>((resolve) => {
          const server = net.createServer((socket) => {
            socket.on('error', () => {});
            socket.resume();
            // The client closes first: TIME_WAIT lands on its side.
            socket.on('end', () => socket.end());
          });
          server.listen({ host, port, backlog: 4096 }, resolve);
        }),
    ),
  );
  console.log('listening');
}

/** One connection kept open: true once connected, false when it fails. */
function openAndKeep(host: string, port: number, localAddress?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, ...(localAddress && { localAddress }) });
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    socket.on('error', () => {});
    socket.resume();
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function hold(
  host: string,
  ports: readonly number[],
  max: number,
  seconds: number,
  localAddress?: string,
): Promise<void> {
  setTimeout(() => process.exit(0), seconds * 1000);
  let held = 0;
  while (
    held < max &&
    (await openAndKeep(host, ports[held % ports.length] as number, localAddress))
  )
    held++;
  console.log(`held ${held}`);
}

function stall(host: string, port: number, seconds: number): void {
  const server = net.createServer(() => {});
  server.listen({ host, port, backlog: 1 }, () => {
    console.log('listening');
    // Block the thread: nothing calls accept(), so the accept queue fills up.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
    process.exit(0);
  });
}

/** One connection closed by this side as soon as it is up; resolves when it is gone. */
function openAndClose(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let connected = false;
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    socket.on('connect', () => {
      connected = true;
      socket.end();
    });
    socket.resume();
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(connected);
    });
  });
}

async function connectMany(host: string, port: number, count: number): Promise<void> {
  let done = 0;
  for (let index = 0; index < count; index++) {
    if (await openAndClose(host, port)) done++;
  }
  console.log(`done ${done}`);
}

function churn(host: string, port: number, seconds: number, rate: number): void {
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ticker = setInterval(() => {
    for (let index = 0; index < perTick; index++) void openAndClose(host, port);
  }, tickMs);
  setTimeout(() => {
    clearInterval(ticker);
    process.exit(0);
  }, seconds * 1000);
}

const [mode, host = '', portText = '', third = '', fourth = '', fifth] = process.argv.slice(2);
const port = Number(portText);
switch (mode) {
  case 'serve':
    await serve(host, parsePorts(portText), Number(third));
    break;
  case 'hold':
    await hold(host, parsePorts(portText), Number(third), Number(fourth), fifth);
    break;
  case 'stall':
    stall(host, port, Number(third));
    break;
  case 'connect':
    await connectMany(host, port, Number(third));
    break;
  case 'churn':
    churn(host, port, Number(third), Number(fourth));
    break;
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
