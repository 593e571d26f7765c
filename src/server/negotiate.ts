/**
 * Exposition format from the Accept header: OpenMetrics when the scraper asks for it at least
 * as much as for the text format (Prometheus sends both with falling q values), text otherwise.
 */
import type { ExpositionEncoding, ExpositionFormat } from '../metrics/exporter-metrics.js';

interface MediaRange {
  readonly type: string;
  readonly q: number;
}

/** Distinct header values whose answer is kept; a few scrapers and browsers send a few. */
export const REMEMBERED_HEADERS = 64;

/**
 * `choose` with its answers kept: a scraper sends the same header with every scrape, and
 * parsing both headers was a tenth of a scrape's CPU. Bounded, as any client may send any.
 */
function remembered<T>(choose: (header: string | undefined) => T): (header?: string) => T {
  const answers = new Map<string | undefined, T>();
  return (header) => {
    let answer = answers.get(header);
    if (answer === undefined) {
      answer = choose(header);
      if (answers.size >= REMEMBERED_HEADERS) answers.clear();
      answers.set(header, answer);
    }
    return answer;
  };
}

function parseAccept(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim());
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((piece) => piece.trim());
      if (name?.toLowerCase() === 'q') q = Number(value);
    }
    return { type: type.toLowerCase(), q: Number.isFinite(q) ? q : 0 };
  });
}

function quality(ranges: readonly MediaRange[], matches: (type: string) => boolean): number {
  return Math.max(0, ...ranges.filter((range) => matches(range.type)).map((range) => range.q));
}

export const chooseExpositionFormat = remembered((accept): ExpositionFormat => {
  if (accept === undefined) return 'text';
  const ranges = parseAccept(accept);
  const openMetrics = quality(ranges, (type) => type === 'application/openmetrics-text');
  const text = quality(
    ranges,
    (type) => type === 'text/plain' || type === 'text/*' || type === '*/*',
  );
  return openMetrics > 0 && openMetrics >= text ? 'openmetrics' : 'text';
});

/** gzip when Accept-Encoding allows it (`gzip`, `x-gzip` or `*` with q > 0), else identity. */
export const chooseExpositionEncoding = remembered((acceptEncoding): ExpositionEncoding => {
  if (acceptEncoding === undefined) return 'identity';
  const ranges = parseAccept(acceptEncoding);
  const named = ranges.filter((range) => range.type === 'gzip' || range.type === 'x-gzip');
  const gzip =
    named.length > 0 ? quality(named, () => true) : quality(ranges, (type) => type === '*');
  return gzip > 0 ? 'gzip' : 'identity';
});
