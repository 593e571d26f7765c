/** Exit statuses of every command, in one table. */
export const EXIT = {
  /** Done; for doctor, analysed whatever was found. */
  ok: 0,
  /** Could not do the job: a collector failed (`--once`), the socket tables or the address were unusable. */
  failed: 1,
  /** A bad command line, as with every Prometheus exporter. */
  usage: 2,
  /** doctor: a finding at or above --fail-on. */
  findings: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
