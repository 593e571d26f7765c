/**
 * The HTTP server's limits, set on purpose rather than left to Node's defaults (no request
 * timeout, silent connections kept ~84 s, no connection cap): a scrape is one small GET, so
 * anything slower or larger than a scraper would ever send is cut off early, and idle or
 * flooding clients can never take the file descriptors the sampler needs.
 */
import { readFileSync } from 'node:fs';

/** Options for http.createServer (also valid for https.createServer). */
export const HTTP_SERVER_OPTIONS = {
  /** Request line and headers together; a scraper sends well under 1 KiB. */
  maxHeaderSize: 8 * 1024,
  /** A client must have sent its headers this long after connecting (slowloris). */
  headersTimeout: 10_000,
  /** How often those two timeouts are checked; Node's default (30 s) lets them run late. */
  connectionsCheckingInterval: 1_000,
} as const;

/** Fastify's own server options. */
export const FASTIFY_SERVER_OPTIONS = {
  /** The whole request; a GET has no body, so this only bounds slow senders. */
  requestTimeout: 15_000,
  /**
   * An idle keep-alive connection is closed after this: long enough for a 15 s scrape
   * interval to reuse its connection, short enough that idle clients do not pile up.
   */
  keepAliveTimeout: 30_000,
  /** Any connection with no traffic at all for this long is closed. */
  connectionTimeout: 60_000,
} as const;

/** File descriptors kept out of the HTTP server's reach: Node, the logger, the sampler. */
export const RESERVED_FDS = 64;
/** Prometheus needs one connection per scraper; a few hundred leaves room for humans. */
export const MAX_CONNECTIONS = 256;

/** The soft RLIMIT_NOFILE from /proc/self/limits, or undefined when it cannot be read. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'latin1');
    } catch {
      return undefined;
    }
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(text)?.[1];
  if (soft === undefined || soft === 'unlimited') return undefined;
  return Number(soft);
}

/**
 * Concurrent connections allowed: MAX_CONNECTIONS, lowered so that RESERVED_FDS stay free
 * under the open-file limit (at 512 fds, 600 idle connections used to make every
 * collector fail with EMFILE). Connections beyond it are closed as they arrive.
 */
export function maxConnections(fileLimit = openFileLimit()): number {
  if (fileLimit === undefined) return MAX_CONNECTIONS;
  return Math.max(1, Math.min(MAX_CONNECTIONS, fileLimit - RESERVED_FDS));
}
