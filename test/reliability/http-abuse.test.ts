/**
 * Hostile and broken HTTP clients against the running daemon: each is cut off or refused
 * within the server's limits (src/server/limits.ts) and the daemon keeps serving.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { maxConnections } from '../../src/server/limits.js';
import { type RunningExporter, startExporter } from '../../testkit/exporter/exporter-cli.js';
import { MINIMAL_PROCFS } from '../../testkit/exporter/exporter-procfs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: { readonly fileLimit?: number } = {}): Promise<RunningExporter> {
  const running = await startExporter(
    [`--path.procfs=${MINIMAL_PROCFS}`, '--sample.interval=100ms'],
    options.fileLimit === undefined ? {} : { fileLimit: options.fileLimit },
  );
  cleanups.push(() => running.daemon.stop(2_000));
  await vi.waitFor(async () => expect((await fetch(`${running.url}/-/ready`)).status).toBe(200), {
    timeout: 20_000,
    interval: 100,
  });
  return running;
}

/** The sockets a process holds open, read from its fd table. */
function socketFds(pid: number): number {
  const fds = readdirSync(`/proc/${pid}/fd`);
  return fds.filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed while listed
    }
  }).length;
}

function portOf(running: RunningExporter): number {
  return Number(new URL(running.url).port);
}

interface RawExchange {
  readonly socket: Socket;
  /** Everything the server sent until it closed the connection. */
  readonly reply: Promise<{ text: string; seconds: number }>;
}

/** A raw connection that records what the server sends and when it closes. */
function raw(running: RunningExporter, request?: string): RawExchange {
  const socket = connect(portOf(running), '127.0.0.1');
  cleanups.push(() => {
    socket.destroy();
  });
  const started = performance.now();
  const reply = new Promise<{ text: string; seconds: number }>((resolve) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, seconds: (performance.now() - started) / 1000 }));
  });
  if (request !== undefined) socket.write(request);
  return { socket, reply };
}

async function healthy(running: RunningExporter): Promise<number> {
  return (await fetch(`${running.url}/-/healthy`)).status;
}

function statusLines(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 \d{3} [^\r]*/g)].map((match) => match[0]);
}

describe('daemon against abusive HTTP clients', () => {
  it('refuses a long URL and huge headers, and keeps serving', async () => {
    const running = await start();
    const longUrl = raw(running, `GET /metrics?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const hugeHeaders = raw(
      running,
      `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64_000)}\r\n\r\n`,
    );
    expect(statusLines((await longUrl.reply).text)).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
    ]);
    expect(statusLines((await hugeHeaders.reply).text)).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
    ]);
    expect(await healthy(running)).toBe(200);
  });

  it('refuses bad methods and answers pipelined requests in order', async () => {
    const running = await start();
    const brew = raw(running, 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusLines((await brew.reply).text)).toEqual(['HTTP/1.1 400 Bad Request']);
    const post = await fetch(`${running.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(404);
    const pipelined = raw(
      running,
      'GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const { text } = await pipelined.reply;
    expect(statusLines(text)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(text.indexOf('Healthy')).toBeLessThan(text.indexOf('tcpstate_sockets'));
    expect(text.indexOf('tcpstate_sockets')).toBeLessThan(text.indexOf('Ready'));
  });

  it('closes silent and slowloris connections within the header timeout', async () => {
    const running = await start();
    const silent = raw(running);
    const slow = raw(running, 'GET /metrics HTTP/1.1\r\nHost: x\r\n');
    // One header byte a second: the connection is never idle, only slow.
    const drip = setInterval(() => slow.socket.write('X'), 1_000);
    cleanups.push(() => clearInterval(drip));
    const [silentEnd, slowEnd] = await Promise.all([silent.reply, slow.reply]);
    // headersTimeout 10 s, checked every second.
    for (const end of [silentEnd, slowEnd]) {
      expect(end.seconds).toBeGreaterThan(9);
      expect(end.seconds).toBeLessThan(15);
    }
    // Both are told why before the close, not just dropped.
    for (const end of [silentEnd, slowEnd]) {
      expect(statusLines(end.text)).toEqual(['HTTP/1.1 408 Request Timeout']);
    }
    expect(await healthy(running)).toBe(200);
    // Up to 15 s for the closes, plus the daemon's start (up to 20 s, see start()).
  }, 60_000);

  it('caps connections under the open-file limit, so the sampler always opens its files', async () => {
    // 200 fds: the cap is 200 - 64 = 136 connections.
    const running = await start({ fileLimit: 200 });
    const pid = running.daemon.child.pid as number;
    const socketsBefore = socketFds(pid);
    const flood = Array.from({ length: 300 }, () => raw(running));
    await vi.waitFor(
      () =>
        expect(
          flood.filter((exchange) => exchange.socket.readyState === 'open').length,
        ).toBeGreaterThan(100),
      { timeout: 10_000 },
    );
    // Let the sampler run 20 times (every 100 ms) while the flood holds its connections.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Accepted connections are the daemon's sockets beyond those it had before the flood.
    expect(socketFds(pid) - socketsBefore).toBeLessThanOrEqual(maxConnections(200));
    for (const exchange of flood) exchange.socket.destroy();
    await vi.waitFor(async () => expect(await healthy(running)).toBe(200), { timeout: 10_000 });
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(text).toContain('tcpstate_collector_success{collector="sockets"} 1');
    expect(running.logLines().filter((line) => line.msg === 'collector failing')).toEqual([]);
  }, 40_000);
});
