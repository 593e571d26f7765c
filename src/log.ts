/**
 * pino loggers: JSON lines by default, logfmt for people reading a terminal. The JSON
 * destination writes synchronously, so nothing is lost when the process exits right after
 * logging; pino-logfmt is a worker-thread transport, which pino flushes on exit.
 * pino itself is loaded on the first createLogger(): the flag table reads the levels and
 * formats here, and doctor, which never logs, should not pay for pino at start-up.
 */
import { createRequire } from 'node:module';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMATS = ['json', 'logfmt'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** 1 for stdout, 2 for stderr (`--once` keeps stdout for the exposition). */
  readonly fd: 1 | 2;
}

type Pino = typeof import('pino');

function loadPino(): Pino {
  return createRequire(import.meta.url)('pino') as Pino;
}

function loggerOptions(pino: Pino): LoggerOptions {
  return {
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

function destination(pino: Pino, options: LogOptions): DestinationStream {
  if (options.format === 'json') return pino.destination({ dest: options.fd, sync: true });
  return pino.transport({
    target: 'pino-logfmt',
    // Nested fields (the start line's config) as config.web.listen-address=:10120.
    options: { destination: options.fd, flattenNestedObjects: true, flattenNestedSeparator: '.' },
  });
}

export function createLogger(options: LogOptions): Logger {
  const pino = loadPino();
  return pino.pino({ ...loggerOptions(pino), level: options.level }, destination(pino, options));
}

/**
 * A logger that loads pino when first used: `--once` logs only when something fails, and
 * loading pino costs about a third of a bare `node -e 0` (docs/benchmarks.md, "Cold start").
 */
export function createLazyLogger(options: LogOptions): Logger {
  let logger: Logger | undefined;
  const real = (): Logger => {
    logger ??= createLogger(options);
    return logger;
  };
  return new Proxy({} as Logger, {
    get: (_target, property) => {
      const value: unknown = Reflect.get(real(), property);
      return typeof value === 'function' ? value.bind(real()) : value;
    },
  });
}
