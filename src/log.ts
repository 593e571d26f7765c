/**
 * pino loggers: JSON lines by default, logfmt for people reading a terminal. The JSON
 * destination writes synchronously, so nothing is lost when the process exits right after
 * logging; pino-logfmt is a worker-thread transport, which pino flushes on exit.
 */
import {
  type DestinationStream,
  destination as fileDestination,
  type Logger,
  type LoggerOptions,
  pino,
  stdTimeFunctions,
  transport,
} from 'pino';

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

const LOGGER_OPTIONS: LoggerOptions = {
  base: null,
  timestamp: stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
};

function destination(options: LogOptions): DestinationStream {
  if (options.format === 'json') return fileDestination({ dest: options.fd, sync: true });
  return transport({
    target: 'pino-logfmt',
    // Nested fields (the start line's config) as config.web.listen-address=:10120.
    options: { destination: options.fd, flattenNestedObjects: true, flattenNestedSeparator: '.' },
  });
}

export function createLogger(options: LogOptions): Logger {
  return pino({ ...LOGGER_OPTIONS, level: options.level }, destination(options));
}
