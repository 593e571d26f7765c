/**
 * tcpstate-exporter as a Prometheus scrape target for the alert and dashboard tests: the
 * real daemon from src/main.ts, sampling a procfs tree (a fixture, or `/proc` inside a
 * namespace), on a free loopback port, ready once its first sample is taken.
 */
import { exporterCommand, REPO_ROOT } from '../exporter/exporter-cli.js';
import { freeLoopbackPort, startReadyDaemon } from './prometheus-daemon.js';

export interface ExporterTarget {
  /** `host:port`, as a scrape config target. */
  readonly address: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startExporterTarget(options: {
  readonly procfs: string;
  readonly netns?: string;
  /** Inside a namespace the port is free anyway; default 10120, the exporter's own. */
  readonly port?: number;
  /** Address to listen on; default 127.0.0.1 (another namespace reaches it over a veth). */
  readonly host?: string;
  readonly sampleInterval?: string;
}): Promise<ExporterTarget> {
  const port = options.port ?? (options.netns === undefined ? await freeLoopbackPort() : 10120);
  const address = `${options.host ?? '127.0.0.1'}:${port}`;
  const [command, args] = exporterCommand([
    `--path.procfs=${options.procfs}`,
    `--web.listen-address=${address}`,
    `--sample.interval=${options.sampleInterval ?? '1s'}`,
    '--log.level=warn',
  ]);
  const daemon = await startReadyDaemon(command, args, {
    name: 'tcpstate-exporter',
    readyUrl: `http://${address}/-/ready`,
    ...(options.netns === undefined ? {} : { netns: options.netns }),
    cwd: REPO_ROOT,
  });
  return { address, output: () => daemon.output(), stop: () => daemon.stop() };
}
