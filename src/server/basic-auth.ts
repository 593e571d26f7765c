/**
 * Basic auth against bcrypt hashes, as exporter-toolkit does it: an unknown user is checked
 * against a fixed hash (no user enumeration by timing), one bcrypt comparison at a time (it
 * costs ~50-100 ms of CPU at cost 10), and verdicts cached so a scrape every few seconds pays
 * bcrypt once, not per request. The cache key is a SHA-256 of user, hash and password: it
 * holds no password, and a changed hash (reload) misses it.
 */
import { createHash } from 'node:crypto';

/** bcrypt of "fakepassword" at cost 10, compared for unknown users. */
const UNKNOWN_USER_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';
const CACHE_ENTRIES = 100;

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** `Authorization: Basic base64(user:password)`; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): Credentials | undefined {
  const match = header === undefined ? null : /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class BasicAuthVerifier {
  private readonly verdicts = new Map<string, boolean>();
  private queue: Promise<unknown> = Promise.resolve();
  /** bcrypt comparisons actually run (cache misses), for tests and benchmarks. */
  comparisons = 0;

  async verify(users: ReadonlyMap<string, string>, credentials: Credentials): Promise<boolean> {
    const known = users.get(credentials.user);
    const hash = known ?? UNKNOWN_USER_HASH;
    const cacheKey = createHash('sha256')
      .update(credentials.user)
      .update('\0')
      .update(hash)
      .update('\0')
      .update(credentials.password)
      .digest('hex');
    let verdict = this.verdicts.get(cacheKey);
    if (verdict === undefined) {
      verdict = await this.compare(credentials.password, hash);
      if (this.verdicts.size >= CACHE_ENTRIES) {
        // Oldest first: Maps iterate in insertion order.
        this.verdicts.delete(this.verdicts.keys().next().value as string);
      }
      this.verdicts.set(cacheKey, verdict);
    }
    return verdict && known !== undefined;
  }

  /** One comparison at a time, so wrong passwords cannot take both cores from sampling. */
  private compare(password: string, hash: string): Promise<boolean> {
    const run = this.queue.then(async () => {
      const { compare } = await import('bcryptjs');
      this.comparisons++;
      return compare(password, hash);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
