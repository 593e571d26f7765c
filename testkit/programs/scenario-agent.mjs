// Socket agent run inside a network namespace (`ip netns exec NS node scenario-agent.mjs`).
// It holds listeners and connections open so their TCP states stay put, and obeys one JSON
// command per stdin line, answering one JSON line per command: {id, ok, error?}.
// It exits when stdin closes, so a dead parent never leaves it behind.
import net from 'node:net';
import { createInterface } from 'node:readline';

/** group name -> sockets (outbound groups, and accepted sockets under their listener's name) */
const groups = new Map();
const servers = [];

function groupOf(name) {
  let sockets = groups.get(name);
  if (!sockets) {
    sockets = [];
    groups.set(name, sockets);
  }
  return sockets;
}

function unmapped(address) {
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

function keep(group, socket) {
  // Late errors (timeouts of lost peers) must not kill the agent or change what we hold.
  socket.on('error', () => {});
  groupOf(group).push(socket);
}

/**
 * onAccept: `hold` keeps accepted sockets open even after the peer's FIN (CLOSE_WAIT);
 * `closeFirst` closes them at once (this side gets TIME_WAIT); `passive` answers the peer's
 * FIN with its own (the peer gets TIME_WAIT, this side none).
 */
function listen({ name, host, port, ipv6Only = false, backlog = 511, onAccept }) {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: onAccept === 'hold' }, (socket) => {
      if (onAccept === 'closeFirst') {
        socket.on('error', () => {});
        socket.destroy();
      } else if (onAccept === 'passive') {
        socket.on('error', () => {});
        socket.resume();
      } else {
        keep(name, socket);
      }
    });
    server.once('error', reject);
    server.listen({ host, port, ipv6Only, backlog }, () => {
      servers.push(server);
      resolve({});
    });
  });
}

/**
 * then: `hold` resolves once all are connected and keeps them; `close` closes each as soon as
 * it connects (this side gets TIME_WAIT) and resolves when all are closed; `passive` answers
 * the server's FIN with its own (the server gets TIME_WAIT); `pending` only starts the
 * connects (to a lost peer: SYN_SENT) and resolves at once.
 */
function connect({
  group,
  host,
  port,
  localAddress,
  localPort,
  count = 1,
  then,
  concurrency = 32,
}) {
  const options = { host, port, allowHalfOpen: then !== 'passive' };
  if (localAddress !== undefined) options.localAddress = localAddress;
  if (localPort !== undefined) options.localPort = localPort;
  if (then === 'pending') {
    for (let i = 0; i < count; i++) keep(group, net.connect(options));
    return Promise.resolve({});
  }
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    let failed = false;
    const startNext = () => {
      if (failed || started >= count) return;
      started++;
      const socket = net.connect(options);
      socket.once('error', (error) => {
        failed = true;
        reject(new Error(`connect ${host}:${port} #${started}: ${error.message}`));
      });
      socket.once('connect', () => {
        if (then === 'close') {
          socket.once('close', done);
          socket.destroy();
        } else if (then === 'passive') {
          socket.on('error', () => {});
          socket.resume();
          done();
        } else {
          keep(group, socket);
          done();
        }
      });
    };
    const done = () => {
      finished++;
      if (finished === count) resolve({});
      else startNext();
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) startNext();
  });
}

/** Half-closes (sends FIN, keeps the socket) every socket of a group, or those of one peer. */
function end({ group, remoteAddress }) {
  const sockets = (groups.get(group) ?? []).filter(
    (socket) => remoteAddress === undefined || unmapped(socket.remoteAddress) === remoteAddress,
  );
  if (sockets.length === 0) return Promise.reject(new Error(`no sockets in group ${group}`));
  for (const socket of sockets) socket.end();
  return Promise.resolve({ ended: sockets.length });
}

/**
 * Plain connect()s (after a bind() to `localAddress` when given), one at a time, each
 * held open, until one fails or `max` succeeded: {count, error} (the failure's code).
 */
function exhaust({ group, host, port, localAddress, max }) {
  return new Promise((resolve) => {
    let count = 0;
    const next = () => {
      if (count >= max) return resolve({ count, error: 'max' });
      const options = { host, port };
      if (localAddress !== undefined) options.localAddress = localAddress;
      const socket = net.connect(options);
      socket.once('error', (error) => resolve({ count, error: error.code ?? String(error) }));
      socket.once('connect', () => {
        keep(group, socket);
        count++;
        next();
      });
    };
    next();
  });
}

/** Closes (FIN, no half-open) every socket of a group and forgets them. */
function drop({ group }) {
  const sockets = groups.get(group) ?? [];
  for (const socket of sockets) socket.destroy();
  groups.delete(group);
  return Promise.resolve({ dropped: sockets.length });
}

/** Aborts (RST, so no TIME_WAIT on either side) every socket of a group and forgets them. */
function reset({ group }) {
  const sockets = groups.get(group) ?? [];
  for (const socket of sockets) socket.resetAndDestroy();
  groups.delete(group);
  return Promise.resolve({ reset: sockets.length });
}

const operations = { listen, connect, end, exhaust, drop, reset, ping: async () => ({}) };

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return;
  }
  const operation = operations[request.op];
  const reply = (body) => process.stdout.write(`${JSON.stringify({ id: request.id, ...body })}\n`);
  if (!operation) return reply({ ok: false, error: `unknown op ${request.op}` });
  operation(request).then(
    (result) => reply({ ok: true, ...result }),
    (error) => reply({ ok: false, error: String(error?.message ?? error) }),
  );
});
lines.on('close', () => process.exit(0));
