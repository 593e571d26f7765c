import { describe, expect, it } from 'vitest';
import {
  chooseExpositionEncoding,
  chooseExpositionFormat,
  REMEMBERED_HEADERS,
} from '../../src/server/negotiate.js';

describe('chooseExpositionFormat', () => {
  it('serves text without an Accept header or when only text is acceptable', () => {
    expect(chooseExpositionFormat(undefined)).toBe('text');
    expect(chooseExpositionFormat('*/*')).toBe('text');
    expect(chooseExpositionFormat('text/plain;version=0.0.4')).toBe('text');
    expect(chooseExpositionFormat('text/html,application/xhtml+xml,*/*;q=0.8')).toBe('text');
  });

  it('serves OpenMetrics when the scraper prefers it, as Prometheus does', () => {
    // Prometheus 2.x and 3.x default scrape Accept headers.
    expect(
      chooseExpositionFormat(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
    expect(
      chooseExpositionFormat(
        'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
    expect(chooseExpositionFormat('Application/OpenMetrics-Text; version=1.0.0')).toBe(
      'openmetrics',
    );
  });

  it('serves text when text is preferred or OpenMetrics is refused', () => {
    expect(
      chooseExpositionFormat('text/plain;version=0.0.4,application/openmetrics-text;q=0.5'),
    ).toBe('text');
    expect(chooseExpositionFormat('application/openmetrics-text;q=0,*/*')).toBe('text');
  });
});

describe('remembered answers', () => {
  it('stay right for many distinct headers, beyond the number kept', () => {
    for (let round = 0; round < 2; round++) {
      for (let index = 0; index < 3 * REMEMBERED_HEADERS; index++) {
        const q = (index % 9) / 10;
        const accept = `text/plain;q=0.5,application/openmetrics-text;q=${q},x/${index}`;
        expect(chooseExpositionFormat(accept)).toBe(q >= 0.5 ? 'openmetrics' : 'text');
        const encoding = `br,gzip;q=${q},x-${index}`;
        expect(chooseExpositionEncoding(encoding)).toBe(q > 0 ? 'gzip' : 'identity');
      }
    }
  });
});
