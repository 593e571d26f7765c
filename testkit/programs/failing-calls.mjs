// Makes connect() fail with EADDRNOTAVAIL and bind() with EADDRINUSE a given number of times,
// inside a namespace whose ip_local_port_range the test narrowed to `port-range` (2 ports):
// it listens on 127.0.0.1:8080 (outside the range), holds one connection per port of the
// range, then tries `connects` more connect()s and `binds` bind()s to the listening port.
// It prints what the calls returned, as it saw them ({connect: {code: n}, bind: {code: n}}),
// and stays alive (so its namespace can be attributed) until stdin closes.
// argv[2]: JSON {connects, binds, rangePorts}.
import net from 'node:net';

const { connects, binds, rangePorts } = JSON.parse(process.argv[2]);
const PORT = 8080;
const outcomes = { connect: {}, bind: {} };
const held = [];

function count(call, code) {
  outcomes[call][code] = (outcomes[call][code] ?? 0) + 1;
}

function connectOnce() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: PORT });
    socket.once('connect', () => resolve({ socket, code: 'ok' }));
    socket.once('error', (error) => resolve({ socket, code: error.code }));
  });
}

function bindOnce() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error) => resolve(error.code));
    server.listen({ host: '127.0.0.1', port: PORT }, () => {
      server.close();
      resolve('ok');
    });
  });
}

const listener = net.createServer((socket) => held.push(socket));
await new Promise((resolve) => listener.listen({ host: '127.0.0.1', port: PORT }, resolve));
for (let i = 0; i < rangePorts; i++) {
  const { socket, code } = await connectOnce();
  if (code !== 'ok') throw new Error(`holding connection ${i} failed: ${code}`);
  held.push(socket);
}
for (let i = 0; i < connects; i++) {
  const { socket, code } = await connectOnce();
  count('connect', code);
  if (code === 'ok') held.push(socket);
}
for (let i = 0; i < binds; i++) count('bind', await bindOnce());
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
process.stdin.resume();
process.stdin.once('end', () => process.exit(0));
