/**
 * What every request passes before its route, in this order: the concurrency limit
 * (`--web.max-requests`, 503 beyond), the web config's rate limit (429), the security headers,
 * then basic auth (401). Limits come first so refused requests never cost a bcrypt comparison.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BasicAuthVerifier, parseBasicAuth } from './basic-auth.js';
import type { ExporterFastify } from './fastify-instance.js';
import type { RateLimit, WebConfig } from './web-config.js';

/**
 * Fastify sets no security headers. The page loads only its own script, style and JSON; a
 * strict policy makes an injected script inert, and no site may frame the page.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'deny',
  'Referrer-Policy': 'no-referrer',
};

/** Probes stay answerable under scrape load: a refused liveness probe restarts the pod. */
const UNLIMITED_PATHS = new Set(['/-/healthy', '/-/ready']);

/** Go's rate.Limiter: `burst` tokens, one more every interval. */
class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly limit: RateLimit) {
    this.tokens = limit.burst;
  }

  allow(): boolean {
    const now = performance.now();
    this.tokens = Math.min(
      this.limit.burst,
      this.tokens + (now - this.last) / this.limit.intervalMs,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface WebGuardOptions {
  /** 0: no limit. */
  readonly maxRequests: number;
  /** The web config in force, undefined without --web.config.file. */
  readonly webConfig: () => WebConfig | undefined;
}

function refuse(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(text);
}

export function registerWebGuard(app: ExporterFastify, options: WebGuardOptions): void {
  let inFlight = 0;
  const buckets = new WeakMap<RateLimit, TokenBucket>();
  const verifier = new BasicAuthVerifier();

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS);
    if (options.maxRequests > 0 && !UNLIMITED_PATHS.has(request.url.split('?', 1)[0] as string)) {
      if (inFlight >= options.maxRequests) {
        return refuse(
          reply,
          503,
          `Too many concurrent requests (--web.max-requests=${options.maxRequests})\n`,
        );
      }
      inFlight++;
      // 'close' fires once whether the response finished or the client went away.
      reply.raw.once('close', () => {
        inFlight--;
      });
    }

    const config = options.webConfig();
    if (config === undefined) return;
    const limit = config.rateLimit;
    if (limit !== undefined) {
      let bucket = buckets.get(limit);
      if (bucket === undefined) {
        bucket = new TokenBucket(limit);
        buckets.set(limit, bucket);
      }
      if (!bucket.allow()) return refuse(reply, 429, 'Too Many Requests\n');
    }
    reply.headers(config.headers);
    if (config.users.size === 0) return;
    const credentials = parseBasicAuth(request.headers.authorization);
    if (credentials !== undefined && (await verifier.verify(config.users, credentials))) return;
    return refuse(reply.header('WWW-Authenticate', 'Basic'), 401, 'Unauthorized\n');
  });
}
