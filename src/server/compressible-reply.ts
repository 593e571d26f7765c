/**
 * The page's HTML, JSON and assets, gzipped when the client takes gzip. The exposition has
 * its own, once per sample (ExporterMetrics); these are asked for once per page visit, so
 * they are compressed per request, off the event loop, by node:zlib alone: @fastify/compress
 * loaded ~30 modules at start-up for these few routes.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { chooseExpositionEncoding } from './negotiate.js';

const gzipAsync = promisify(gzip);

/** Below this, gzip's own header and the CPU it costs outweigh the bytes saved. */
export const MIN_COMPRESSED_BYTES = 1024;

/** Sends `body` (with its content type already set), gzipped when the request accepts it. */
export async function sendCompressible(
  request: FastifyRequest,
  reply: FastifyReply,
  body: string | Buffer,
): Promise<FastifyReply> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  reply.header('vary', 'Accept-Encoding');
  if (
    bytes.length < MIN_COMPRESSED_BYTES ||
    chooseExpositionEncoding(request.headers['accept-encoding']) !== 'gzip'
  ) {
    return reply.send(bytes);
  }
  return reply.header('content-encoding', 'gzip').send(await gzipAsync(bytes));
}
